// Token counts and delta chunking with the Qwen3 tokenizer. Loading it costs
// ~0.2 s from the build's prepared tables (tokenizer-data.ts; ~1 s without)
// and ~110 MB, so it is loaded once per process, on first use; encodings are
// memoised because the simulator sees the same prompt and answer texts over
// and over (prompt templates, tool schemas, answer templates).
import { BoundedCache } from './bounded-cache';
import { pieceEncoder, type PieceEncoder } from './piece-encoder';
import { loadTokenizer, type Tokenizer } from './tokenizer-data';

let tokenizer: Tokenizer | null = null;
let pieces: PieceEncoder | null = null;
function get(): Tokenizer {
  tokenizer ??= loadTokenizer();
  return tokenizer;
}
function encoder(): PieceEncoder {
  pieces ??= pieceEncoder(get());
  return pieces;
}

const counts = new BoundedCache<string, number>(50_000);
/** Keyed by the text alone (a key joined from the settings and the text
 * would be a new string to hash per request); the settings are checked. */
const splits = new BoundedCache<string, Split>(20_000);

interface Split {
  perDelta: number;
  maxTokens: number;
  deltas: string[];
  tokens: number;
  truncated: boolean;
}

/** Loads the tokenizer now (servers call this before they report ready). */
export function warmTokenizer(): void {
  get();
}

export function encode(text: string): number[] {
  return encoder().encode(text);
}

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  let n = counts.get(text);
  if (n === undefined) {
    n = encoder().count(text);
    counts.set(text, n);
  }
  return n;
}

/** Splits generated text into SSE deltas of `perDelta` tokens each, cut at
 * `maxTokens` (then `truncated` is true, as vLLM's finish_reason "length"). */
export function splitDeltas(text: string, perDelta: number, maxTokens: number): { deltas: string[]; tokens: number; truncated: boolean } {
  const hit = splits.get(text);
  if (hit && hit.perDelta === perDelta && hit.maxTokens === maxTokens) return hit;
  const ids = encode(text);
  const kept = ids.length > maxTokens ? ids.slice(0, maxTokens) : ids;
  const deltas: string[] = [];
  const dec = encoder();
  // A group that ends inside a multi-byte character decodes to U+FFFD; it is
  // merged with the next group instead (vLLM's incremental detokenizer also
  // holds back incomplete UTF-8).
  let start = 0;
  for (let i = 0; i < kept.length; ) {
    const end = Math.min(kept.length, i + perDelta);
    const d = dec.decode(kept.slice(start, end));
    i = end;
    if (d.includes('\uFFFD') && end < kept.length) continue;
    if (d.length > 0) deltas.push(d);
    start = end;
  }
  counts.set(text, ids.length);
  return splits.set(text, { perDelta, maxTokens, deltas, tokens: kept.length, truncated: kept.length < ids.length });
}
