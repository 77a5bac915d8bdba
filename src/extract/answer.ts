// Final-answer parsing, shared by both engines: it runs once per finished
// turn on the content outside tool calls and <think>, so it stays in
// TypeScript. Labels follow src/protocol/prompts.ts; values are normalised to the
// enums in src/domain/enums.ts, and an unknown value is reported, never guessed.
import { LAT_ACTIONS, LONG_ACTIONS, SCENES, type LatAction, type LongAction, type Scene } from '../domain/enums';
import type { AnswerKind, FinalAnswer } from './types';

/** Returned by the normalisers for a value outside the enum. */
export const INVALID = Symbol('invalid');
export type Invalid = typeof INVALID;

export type Field = 'scene' | 'longAction' | 'latAction' | 'revised' | 'reason' | 'waypoints';

/** Label (upper case, words joined by '_') → field, per answer kind. */
const LABELS: Record<AnswerKind, Record<string, Field>> = {
  verify: { FINAL_SCENE: 'scene', FINAL_LONG_ACTION: 'longAction', FINAL_LAT_ACTION: 'latAction', REVISED: 'revised', REASON: 'reason' },
  predict: { SCENE: 'scene', LONG_ACTION: 'longAction', LAT_ACTION: 'latAction', WAYPOINTS: 'waypoints' },
  stage_scene: { SCENE: 'scene' },
  stage_action: { LONG_ACTION: 'longAction', LAT_ACTION: 'latAction' },
  stage_waypoints: { WAYPOINTS: 'waypoints' },
};
const REQUIRED: Record<AnswerKind, Field[]> = {
  verify: ['scene', 'longAction', 'latAction'],
  predict: ['scene', 'longAction', 'latAction'],
  stage_scene: ['scene'],
  stage_action: ['longAction', 'latAction'],
  stage_waypoints: ['waypoints'],
};
const FIELD_NAMES: Record<Field, string> = {
  scene: 'scene', longAction: 'long_action', latAction: 'lat_action', revised: 'revised', reason: 'reason', waypoints: 'waypoints',
};

/** "Incident Zone", "incident-zone", "**incident_zone**" → "incident_zone". */
function slug(raw: string): string {
  return raw.trim().replace(/^[*_`"'<\[(\s]+|[*_`"'>\]).,;:!\s]+$/g, '').toLowerCase().replace(/[\s-]+/g, '_');
}

const NULL_WORDS = new Set(['none', 'null', 'n/a', 'na', 'no_action', 'nil']);

export function normalizeScene(raw: string): Scene | Invalid {
  const s = slug(raw);
  return (SCENES as readonly string[]).includes(s) ? (s as Scene) : INVALID;
}

export function normalizeLongAction(raw: string): LongAction | Invalid {
  let s = slug(raw);
  if (NULL_WORDS.has(s)) return 'null';
  if (s === 'slow_down') s = 'slowdown';
  return (LONG_ACTIONS as readonly string[]).includes(s) ? (s as LongAction) : INVALID;
}

export function normalizeLatAction(raw: string): LatAction | Invalid {
  let s = slug(raw);
  if (NULL_WORDS.has(s)) return 'null';
  const m = /^(?:lc|lane_change)_?(left|right)$/.exec(s);
  if (m) s = `lc_${m[1]}`;
  return (LAT_ACTIONS as readonly string[]).includes(s) ? (s as LatAction) : INVALID;
}

function normalizeRevised(raw: string): boolean | Invalid {
  const s = slug(raw);
  if (s === 'yes' || s === 'true') return true;
  if (s === 'no' || s === 'false') return false;
  return INVALID;
}

/** `[[x, y], ...]` → pairs of finite numbers; anything else is invalid. */
function parseWaypoints(raw: string): Array<[number, number]> | Invalid {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return INVALID;
  }
  if (!Array.isArray(v)) return INVALID;
  const out: Array<[number, number]> = [];
  for (const p of v) {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === 'number' && Number.isFinite(x))) return INVALID;
    out.push([p[0] as number, p[1] as number]);
  }
  return out;
}

// Optional list marker / heading, optional bold or italics, the label, optional
// closing emphasis, a colon (or a closing emphasis after the colon).
const LINE_RE = /^[ \t]*(?:[-*+>]|\d+[.)]|#+)?[ \t]*[*_]{0,2}[ \t]*([A-Za-z][A-Za-z _]*?)[ \t]*[*_]{0,2}[ \t]*:[ \t]*[*_]{0,2}(.*)$/;

/** The waypoint list may run over several lines: take the balanced brackets. */
export function bracketSpan(text: string, from: number): string | null {
  const a = text.indexOf('[', from);
  if (a < 0) return null;
  let depth = 0;
  for (let i = a; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return text.slice(a, i + 1);
  }
  return null;
}

/** A line that reads `LABEL: value`: the label upper case with '_' for
 * spaces, the value without bold/italics markers, and where the raw value
 * starts in the text (a waypoint list may run on from there). */
export interface AnswerLine {
  label: string;
  value: string;
  at: number;
}

/** The line scan; the native engine has an identical one
 * (native/src/core/answer_lines.cc) for texts of plain ASCII. */
export function scanAnswerLines(text: string): AnswerLine[] {
  const out: AnswerLine[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const m = LINE_RE.exec(line);
    if (m) {
      const label = m[1]!.trim().toUpperCase().replace(/[ \t]+/g, '_');
      out.push({ label, value: m[2]!.replace(/\*\*|__/g, '').trim(), at: offset + line.length - m[2]!.length });
    }
    offset += line.length + 1;
  }
  return out;
}

export function parseAnswer(text: string, kind: AnswerKind): FinalAnswer {
  return answerFromLines(scanAnswerLines(text), text, kind);
}

/** The answer from scanned lines (`text`: what they were scanned from). */
export function answerFromLines(lines: readonly AnswerLine[], text: string, kind: AnswerKind): FinalAnswer {
  const labels = LABELS[kind];
  const raw = new Map<Field, string>();
  for (const l of lines) {
    const field = labels[l.label];
    if (field) {
      const value = field === 'waypoints' ? bracketSpan(text, l.at) ?? l.value : l.value;
      // Last statement wins: models often restate their answer.
      raw.set(field, value);
    }
  }
  return answerFromFields(raw, REQUIRED[kind]);
}

/** The answer from raw field values (however they were found): each value
 * normalised to its enum, an unknown one reported as invalid. */
export function answerFromFields(raw: ReadonlyMap<Field, string>, required: readonly Field[]): FinalAnswer {
  const ans: FinalAnswer = { status: 'ok', scene: null, longAction: null, latAction: null, revised: null, reason: null, waypoints: null, invalid: [] };
  if (raw.size === 0) return { ...ans, status: 'missing' };
  for (const [field, value] of raw) {
    const bad = () => ans.invalid.push({ field: FIELD_NAMES[field], value });
    switch (field) {
      case 'scene': { const v = normalizeScene(value); if (v === INVALID) bad(); else ans.scene = v; break; }
      case 'longAction': { const v = normalizeLongAction(value); if (v === INVALID) bad(); else ans.longAction = v; break; }
      case 'latAction': { const v = normalizeLatAction(value); if (v === INVALID) bad(); else ans.latAction = v; break; }
      case 'revised': { const v = normalizeRevised(value); if (v === INVALID) bad(); else ans.revised = v; break; }
      case 'reason': ans.reason = value; break;
      case 'waypoints': { const v = parseWaypoints(value); if (v === INVALID) bad(); else ans.waypoints = v; break; }
    }
  }
  if (ans.invalid.length) ans.status = 'invalid_value';
  else if (required.some((f) => !raw.has(f))) ans.status = 'incomplete';
  return ans;
}
