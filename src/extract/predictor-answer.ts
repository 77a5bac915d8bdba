// The predictor's answer format, from config (prompts.predictor): a real
// fine-tuned checkpoint answers in whatever format it was trained on, so its
// keys, its layout (KEY: value lines or one JSON object) and its value
// spellings are declared, not assumed. The same spec writes the simulated
// predictor's answers, so a simulated run exercises the configured parser.
import type { FinalAnswer } from './types';
import { answerFromFields, bracketSpan, scanAnswerLines, type Field } from './answer';

export interface PredictorAnswerSpec {
  format: 'lines' | 'json';
  keys: { scene: string; longAction: string; latAction: string; waypoints: string | null };
  /** The checkpoint's spelling -> ours (before the usual normalisation). */
  values: Record<string, string>;
}

/** The plan's format: SCENE / LONG_ACTION / LAT_ACTION / WAYPOINTS lines. */
export const DEFAULT_PREDICTOR_ANSWER: PredictorAnswerSpec = {
  format: 'lines',
  keys: { scene: 'SCENE', longAction: 'LONG_ACTION', latAction: 'LAT_ACTION', waypoints: 'WAYPOINTS' },
  values: {},
};

const REQUIRED: readonly Field[] = ['scene', 'longAction', 'latAction'];
const labelOf = (k: string): string => k.trim().toUpperCase().replace(/[ \t]+/g, '_');

function fieldKeys(spec: PredictorAnswerSpec): Array<[Field, string]> {
  const k = spec.keys;
  return [['scene', k.scene], ['longAction', k.longAction], ['latAction', k.latAction], ...(k.waypoints === null ? [] : [['waypoints', k.waypoints] as [Field, string]])];
}

function mapValue(spec: PredictorAnswerSpec, v: string): string {
  const direct = spec.values[v] ?? spec.values[v.trim()];
  if (direct !== undefined) return direct;
  const low = v.trim().toLowerCase();
  for (const [theirs, ours] of Object.entries(spec.values)) if (theirs.toLowerCase() === low) return ours;
  return v;
}

function fromLines(text: string, spec: PredictorAnswerSpec): Map<Field, string> {
  const byLabel = new Map(fieldKeys(spec).map(([f, k]) => [labelOf(k), f]));
  const raw = new Map<Field, string>();
  for (const l of scanAnswerLines(text)) {
    const f = byLabel.get(l.label);
    // Last statement wins, as for the other answers.
    if (f) raw.set(f, f === 'waypoints' ? bracketSpan(text, l.at) ?? l.value : l.value);
  }
  return raw;
}

/** The last balanced {...} in the text that parses as a JSON object. */
function lastJsonObject(text: string): Record<string, unknown> | null {
  for (let end = text.lastIndexOf('}'); end >= 0; end = text.lastIndexOf('}', end - 1)) {
    let depth = 0;
    for (let i = end; i >= 0; i--) {
      if (text[i] === '}') depth++;
      else if (text[i] === '{' && --depth === 0) {
        try {
          const v: unknown = JSON.parse(text.slice(i, end + 1));
          if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
        } catch { /* not JSON: try an earlier object */ }
        break;
      }
    }
  }
  return null;
}

function fromJson(text: string, spec: PredictorAnswerSpec): Map<Field, string> {
  const obj = lastJsonObject(text);
  const raw = new Map<Field, string>();
  if (!obj) return raw;
  const lower = new Map(Object.keys(obj).map((k) => [k.toLowerCase(), k]));
  for (const [f, key] of fieldKeys(spec)) {
    const k = key in obj ? key : lower.get(key.toLowerCase());
    if (k === undefined) continue;
    const v = obj[k];
    raw.set(f, typeof v === 'string' ? v : v === null ? 'null' : JSON.stringify(v));
  }
  return raw;
}

/** Parses a predictor's answer in the configured format. */
export function parsePredictorAnswer(text: string, spec: PredictorAnswerSpec): FinalAnswer {
  const raw = spec.format === 'json' ? fromJson(text, spec) : fromLines(text, spec);
  if (raw.size === 0) return { status: 'missing', scene: null, longAction: null, latAction: null, revised: null, reason: null, waypoints: null, invalid: [] };
  for (const [f, v] of raw) if (f !== 'waypoints') raw.set(f, mapValue(spec, v));
  return answerFromFields(raw, REQUIRED);
}

export interface PredictorValues {
  scene: string;
  longAction: string;
  latAction: string;
  /** The list as JSON text, [[x, y], ...]. */
  waypoints: string;
}

/** Writes an answer in the configured format (the simulated predictor's
 * output), using the checkpoint's spellings where the spec maps them. */
export function formatPredictorAnswer(v: PredictorValues, spec: PredictorAnswerSpec): string {
  const theirs = (ours: string): string => Object.entries(spec.values).find(([, o]) => o === ours)?.[0] ?? ours;
  const k = spec.keys;
  const fields: Array<[string, string]> = [[k.scene, theirs(v.scene)], [k.longAction, theirs(v.longAction)], [k.latAction, theirs(v.latAction)]];
  if (k.waypoints !== null) fields.push([k.waypoints, v.waypoints]);
  if (spec.format === 'json') return JSON.stringify(Object.fromEntries(fields.map(([key, val]) => [key, key === k.waypoints ? JSON.parse(val) as unknown : val])));
  return fields.map(([key, val]) => `${key}: ${val}`).join('\n');
}
