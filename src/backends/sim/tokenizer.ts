// Token counts and SSE event grouping with the Qwen3 tokenizer. Loading it costs
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
const groupsCache = new BoundedCache<string, Groups>(20_000);

/** What vLLM streams for one generated text: one entry per SSE event. */
export interface StreamGroups {
  /** Each event's delta text: the text of the tokens since the last send
   * ("" when they decode to nothing yet, e.g. the stop token alone). */
  deltas: string[];
  /** Tokens each event carries (the stop token counts in the last). */
  eventTokens: number[];
  /** Generated tokens: usage.completion_tokens. */
  tokens: number;
  /** Length-capped (finish_reason "length"): no stop token was sampled. */
  truncated: boolean;
}

interface Groups extends StreamGroups {
  interval: number;
  maxTokens: number;
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

/** The cumulative text vLLM's detokenizer has released after `end` tokens:
 * tokenizers' DecodeStream (vllm/v1/engine/detokenizer.py
 * FastIncrementalDetokenizer.decode_next) holds back a step whose text ends
 * in U+FFFD (an incomplete UTF-8 character) until a later token completes it,
 * so the release point is the last token count whose decoded text does not
 * end in U+FFFD. `from` is the previous release point (its text is clean). */
function releasedUpTo(ids: number[], from: number, end: number, dec: PieceEncoder): { at: number; text: string } {
  for (let at = end; at > from; at--) {
    const text = dec.decode(ids.slice(from, at));
    if (!text.endsWith('\uFFFD')) return { at, text };
  }
  return { at: from, text: '' };
}

/** The SSE events vLLM sends for `text` under `--stream-interval N`
 * (vllm/v1/engine/output_processor.py RequestState.make_request_output, read
 * at vllm-project/vllm@d0782260): the generated tokens are the text's tokens
 * cut at `maxTokens`, plus the stop token (EOS) when the text ended before the
 * cap (vllm/v1/core/sched/utils.py check_stop: EOS is checked before the
 * length cap, so a text of exactly `maxTokens` tokens ends "length" with no
 * stop token, and one of `maxTokens - 1` ends "stop"). An output is sent at
 * the first token, whenever at least N tokens came since the last send, and
 * at the finishing step, so the events carry [1, N, N, ..., rest] tokens.
 * The stop token is appended to the output tokens but never detokenized
 * (detokenizer.py BaseIncrementalDetokenizer.update, stop_terminated), so it
 * counts in completion_tokens and may make an event of its own with text "". */
export function streamGroups(text: string, interval: number, maxTokens: number): StreamGroups {
  const hit = groupsCache.get(text);
  if (hit && hit.interval === interval && hit.maxTokens === maxTokens) return hit;
  const ids = encode(text);
  counts.set(text, ids.length);
  const truncated = ids.length >= maxTokens;
  const kept = truncated ? ids.slice(0, maxTokens) : ids;
  const generated = truncated ? kept.length : kept.length + 1;
  const deltas: string[] = [];
  const eventTokens: number[] = [];
  const dec = encoder();
  let sent = 0;
  let released = 0;
  for (let k = 1; k <= generated; k++) {
    if (!(k === generated || sent === 0 || k - sent >= interval)) continue;
    const r = releasedUpTo(kept, released, Math.min(k, kept.length), dec);
    released = r.at;
    deltas.push(r.text);
    eventTokens.push(k - sent);
    sent = k;
  }
  return groupsCache.set(text, { interval, maxTokens, deltas, eventTokens, tokens: generated, truncated });
}
