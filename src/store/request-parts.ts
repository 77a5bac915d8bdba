// Stored requests keep each long paragraph of a prompt (the fixed parts of
// a template) once per Arrow batch instead of once per turn: the turn's
// request_json holds a long text as {"$join": [paragraph | {"$part":
// "<sha256>"}, ...]} (joined by blank lines) and each long paragraph lives in the
// `request_parts` column ({sha: text}) of the first turn of its batch that
// used it. The parts are content-addressed, so any copy in the experiment
// serves. Every reader of request_json goes through `storedRequestOf`.
// Also by reference: a tool message's content is {"$call": order}, the
// tool_result_json of that call of the sample (tool_calls). The request's
// parameters (model, tool names, sampling) are turns.request_params, one
// JSON text merged back (databases of migration 9 alone hold them in
// request_json as "$params": {"$part": ...}).
import { hash } from 'node:crypto';
import type { DB } from './db';

/** Texts shorter than this stay inline. */
export const PART_MIN_CHARS = 256;
/** Paragraphs shorter than this stay inline: a reference costs ~35 bytes. */
export const PARAGRAPH_MIN_CHARS = 64;

export type PartRef = { $part: string };
/** A long text as its paragraphs, the long ones by reference: prompts are
 * templates whose fixed paragraphs surround the per-sample ones. */
export type Joined = { $join: Array<string | PartRef> };
export type Parts = Map<string, string>;

/** A part's key: the first 80 bits of its sha256 (hex). Keys are only
 * compared within one experiment's parts (at most some 10^5 texts), where a
 * collision has odds below 10^-14; older databases hold the full 64 hex
 * digits, which read the same way. */
export function partSha(text: string): string {
  // The one-shot hash: the driver keys every long paragraph of every turn's
  // prompt, and a Hash object per paragraph cost ~5x more (the same digest).
  return hash('sha256', text, 'hex').slice(0, 20);
}

function isRef(v: unknown): v is PartRef {
  return !!v && typeof v === 'object' && typeof (v as PartRef).$part === 'string' && Object.keys(v).length === 1;
}

function isReply(v: unknown): boolean {
  return !!v && typeof v === 'object' && (v as { $reply?: unknown }).$reply === true && Object.keys(v).length === 1;
}

function isImage(v: unknown): v is { $image: string } {
  return !!v && typeof v === 'object' && typeof (v as { $image?: unknown }).$image === 'string' && Object.keys(v).length === 1;
}

function imageRef(v: { $image: string }, image: string | null): string {
  if (image === null || !image.startsWith(`sha256:${v.$image}`)) throw new Error(`the request's image (sha256 ${v.$image}...) is not the sample's (predictions.image_sha256)`);
  return image;
}

function isCall(v: unknown): v is { $call: number } {
  return !!v && typeof v === 'object' && typeof (v as { $call?: unknown }).$call === 'number' && Object.keys(v).length === 1;
}

function isJoined(v: unknown): v is Joined {
  return !!v && typeof v === 'object' && Array.isArray((v as Joined).$join) && Object.keys(v).length === 1;
}

/** Paragraph -> key, for the driver's partOf: a prompt template's fixed
 * paragraphs come back in every turn-0 request of a condition, and a Map
 * lookup (V8 hashes the string once, then compares) costs a fraction of a
 * sha256. Cleared when full, so per-sample paragraphs cannot grow it. */
const SHA_MEMO_MAX = 4096;
const shaMemo = new Map<string, string>();

function paragraphSha(p: string): string {
  let sha = shaMemo.get(p);
  if (sha === undefined) {
    if (shaMemo.size >= SHA_MEMO_MAX) shaMemo.clear();
    sha = partSha(p);
    shaMemo.set(p, sha);
  }
  return sha;
}

/** A long text as its paragraphs, each long one replaced by its reference
 * and recorded in `parts`. */
export function partOf(text: string, parts: Record<string, string>): string | Joined {
  if (text.length < PART_MIN_CHARS) return text;
  return {
    $join: text.split('\n\n').map((p) => {
      if (p.length < PARAGRAPH_MIN_CHARS) return p;
      const sha = paragraphSha(p);
      parts[sha] = p;
      return { $part: sha };
    }),
  };
}

function partsObject(v: string): Record<string, string> | null {
  try {
    const o = JSON.parse(v) as unknown;
    if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
    return Object.values(o).every((x) => typeof x === 'string') ? (o as Record<string, string>) : null;
  } catch {
    return null;
  }
}

/** The parts object a row's request_parts was serialised from, kept by the
 * driver (noteRowParts) so the run writer's batch dedupe need not parse the
 * text back. Only ever the object of exactly that text. */
const rowParts = new WeakMap<object, Record<string, string>>();

export function noteRowParts(row: object, parts: Record<string, string>): void {
  rowParts.set(row, parts);
}

/** The rows of one batch with each part held by its first row only, and a
 * part no other row of the batch uses (a paragraph holding the sample's own
 * data) put back inline in request_json: a reference pays only when shared.
 * Rows are copied, never changed; a value not of the parts form is kept. */
export function dedupeBatchParts<R extends { request_json?: string | null | undefined; request_parts?: string | null | undefined }>(rows: readonly R[]): R[] {
  const parsed = rows.map((row) => (row.request_parts ? rowParts.get(row) ?? partsObject(row.request_parts) : null));
  const uses = new Map<string, number>();
  for (const parts of parsed) for (const sha of Object.keys(parts ?? {})) uses.set(sha, (uses.get(sha) ?? 0) + 1);
  const seen = new Set<string>();
  return rows.map((row, i) => {
    const parts = parsed[i];
    if (!parts) return row;
    let json = row.request_json ?? '';
    const fresh: Record<string, string> = {};
    let n = 0;
    for (const [sha, text] of Object.entries(parts)) {
      const ref = `{"$part":"${sha}"}`;
      if (uses.get(sha) === 1 && json.includes(ref)) json = json.split(ref).join(JSON.stringify(text));
      else if (!seen.has(sha)) { seen.add(sha); fresh[sha] = text; n++; }
    }
    return { ...row, request_json: row.request_json === undefined || row.request_json === null ? row.request_json : json, request_parts: n ? JSON.stringify(fresh) : null };
  });
}

/** The parts one experiment's turns hold. */
export function experimentParts(db: DB, experimentId: string): Parts {
  const out: Parts = new Map();
  const rows = db.prepare('SELECT request_parts FROM turns WHERE experiment_id = ? AND request_parts IS NOT NULL').all(experimentId) as Array<{ request_parts: string }>;
  for (const r of rows) for (const [sha, text] of Object.entries(JSON.parse(r.request_parts) as Record<string, string>)) out.set(sha, text);
  return out;
}

/** Per-experiment part maps, read once each. */
export class PartsCache {
  private readonly byExperiment = new Map<string, Parts>();
  constructor(private readonly db: DB) {}
  get(experimentId: string): Parts {
    let p = this.byExperiment.get(experimentId);
    if (!p) { p = experimentParts(this.db, experimentId); this.byExperiment.set(experimentId, p); }
    return p;
  }
}

function partText(ref: PartRef, parts: Parts): string {
  const text = parts.get(ref.$part);
  if (text === undefined) throw new Error(`request part ${ref.$part} is not in the experiment's turns`);
  return text;
}

/** tool_result_json of a sample's calls, by tool_call_order. */
export type CallResults = ReadonlyMap<number, string | null>;

interface Refs { parts: Parts; reply: string | null; results: CallResults; image?: string | null | undefined }

function callResult(order: number, results: CallResults): string {
  const text = results.get(order);
  if (typeof text !== 'string') throw new Error(`the request holds the result of tool call ${order}, but the sample has no such call with a result`);
  return text;
}

function expand(v: unknown, refs: Refs): unknown {
  const { parts, reply } = refs;
  if (isRef(v)) return partText(v, parts);
  if (isCall(v)) return callResult(v.$call, refs.results);
  // Not asked for (undefined): the reference stays.
  if (isImage(v)) return refs.image === undefined ? v : imageRef(v, refs.image);
  if (isReply(v)) {
    if (reply === null) throw new Error('the request echoes a previous reply, but the turn before has no response_text');
    return reply;
  }
  if (isJoined(v)) return v.$join.map((p) => (typeof p === 'string' ? p : partText(p, parts))).join('\n\n');
  if (Array.isArray(v)) return v.map((x) => expand(x, refs));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = expand(x, refs);
    return o;
  }
  return v;
}

/** The stored request with its parameters (turns.request_params, or an
 * older row's "$params", each a JSON text) merged back in as its fields. */
function withParams(stored: unknown, column: string | null): unknown {
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return stored;
  const { $params: inRequest, ...rest } = stored as Record<string, unknown>;
  const params = inRequest ?? column ?? undefined;
  if (params === undefined) return stored;
  let fields: unknown;
  try {
    fields = typeof params === 'string' ? JSON.parse(params) : null;
  } catch {
    fields = null;
  }
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) throw new Error('the request\'s $params is not a JSON object');
  return { ...(fields as Record<string, unknown>), ...rest };
}

/** A turn's stored request with its parts, `reply` (the previous turn's
 * response_text, for {"$reply": true}), the tool results it answered with
 * (`results`, for {"$call": order}), its parameters (`params`, its
 * request_params) and its image name (`image`: `sha256:<hex>#sample=<id>`
 * from predictions.image_sha256, for {"$image": "<8 hex>"}; null: the
 * sample has none, an error; absent: left as is) put back; throws (a
 * plain Error with the reason) when request_json is not JSON or a
 * reference cannot be resolved. */
export function storedRequestOf(requestJson: string | null, parts: Parts, reply: string | null = null, results: CallResults = new Map(), params: string | null = null, image?: string | null): unknown {
  let stored: unknown;
  try {
    stored = JSON.parse(requestJson ?? 'null');
  } catch {
    throw new Error('request_json is not JSON');
  }
  return withParams(expand(stored, { parts, reply, results, image }), params);
}

/** A turn's request parameters alone (model, tool names, sampling), without
 * resolving its messages. */
export function storedParamsOf(requestJson: string | null, parts: Parts, params: string | null = null): Record<string, unknown> {
  let stored: unknown;
  try {
    stored = JSON.parse(requestJson ?? 'null');
  } catch {
    throw new Error('request_json is not JSON');
  }
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return {};
  const { messages: _m, ...rest } = stored as Record<string, unknown>;
  return withParams(expand(rest, { parts, reply: null, results: new Map() }), params) as Record<string, unknown>;
}
