// Tokens of the "# Tools" system block the chat template renders from a
// request's tools, counted on their JSON. Every request of a condition sends
// the same few arrays, so each new array is kept (as a parsed copy of its
// JSON) with its count, and a request's tools are compared with those
// before anything is stringified: a comparison costs ~1.8 µs, stringifying
// the four tools' ~2.4 KB and hashing it for a cache ~10.7 µs, per request
// in a micro-benchmark (docs/performance.md, stop 30).
import { countTokens } from './tokenizer';

/** The template's own text around the tools' JSON. */
const TEMPLATE_TOKENS = 95;
/** Arrays kept; beyond that each request's tools are counted from their JSON. */
const KEPT_MAX = 32;

const kept: Array<{ tools: unknown; tokens: number }> = [];

/** Whether JSON.stringify would give `a` and `b` the same text: the same
 * values, and in objects the same keys in the same order. `a` and `b` are
 * JSON.parse results (no undefined, functions or cycles). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** The block's tokens for a request's tools (a JSON.parse result), 0 without tools. */
export function toolsBlockTokens(tools: readonly unknown[] | undefined): number {
  if (!tools) return 0;
  for (const k of kept) if (sameJson(tools, k.tools)) return k.tokens;
  const json = JSON.stringify(tools);
  const tokens = countTokens(json) + TEMPLATE_TOKENS;
  // A copy: the request's own array is the caller's.
  if (kept.length < KEPT_MAX) kept.push({ tools: JSON.parse(json) as unknown, tokens });
  return tokens;
}
