// Reads a predictor's answer in the configured format
// (src/protocol/predictor-answer.ts declares the format and writes it).
import type { PredictorAnswerSpec } from '../protocol/predictor-answer';
import type { FinalAnswer } from './types';
import { answerFromFields, bracketSpan, scanAnswerLines, type Field } from './answer';

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
