// The JSON body of a streamed turn, built from parts encoded once: each
// message's JSON (a conversation's earlier messages, with the image data
// URL, go out again on every later turn), the model prefix and the tail of
// sampling fields and tool schemas (fixed for a tool set and its settings). The bytes are
// exactly JSON.stringify(requestBody(ep, messages, params, true)) (test 60).
import type { Endpoint } from '../backends/types';
import { requestBody, type ChatMessage, type TurnParams } from './chat-request';

const COMMA = 0x2c; // ','

/** Messages are never changed once in a conversation (the tool loop only
 * appends), so a message object's JSON is its JSON for good. */
const messageJson = new WeakMap<ChatMessage, Buffer | readonly Buffer[]>();
/** By tool schemas (one array per tool set for a whole run: suite-phase.ts), then by the scalar fields. */
const tails = new WeakMap<readonly object[], Map<string, Buffer>>();
const prefixes = new Map<string, Buffer>();
/** The tail by the params object itself: a loop's params are one object
 * for every loop of a condition and tool set (tool-loop.ts), so the
 * field key below is built once per such object, not once per turn. */
const tailByParams = new WeakMap<TurnParams, Buffer>();

/** A sample's image goes out in the first message of every condition that
 * verifies it (the prompt text differs between some), but each conversation
 * needs its own message object (replica affinity is keyed by the first
 * message's identity: replica-client.ts), so the image's JSON is shared by
 * URL: the message is encoded as that head and its own text part. The
 * default order is condition-major, so an image comes back one condition
 * later, after every other sample: the cache is bounded by bytes (the
 * fixture's 4,306 images are ~9 MB), least recently used dropped first, so
 * memory stays flat and a larger set just misses. */
const IMAGE_HEAD_MAX_BYTES = 64 * 1024 * 1024;
const imageHeads = new Map<string, Buffer>();
let imageHeadBytes = 0;

function imageHead(imageUrl: string): Buffer {
  let head = imageHeads.get(imageUrl);
  if (head) {
    // Re-inserted so the map's order is least recently used first.
    imageHeads.delete(imageUrl);
  } else {
    head = Buffer.from(`{"role":"user","content":[{"type":"image_url","image_url":{"url":${JSON.stringify(imageUrl)}}},`);
    imageHeadBytes += head.length;
    for (const [url, old] of imageHeads) {
      if (imageHeadBytes <= IMAGE_HEAD_MAX_BYTES) break;
      imageHeads.delete(url);
      imageHeadBytes -= old.length;
    }
  }
  imageHeads.set(imageUrl, head);
  return head;
}

/** A user message with the image, then the text; its JSON (exactly
 * JSON.stringify of it: test 60) reuses the image's encoded head. */
export function userWithImage(imageUrl: string, text: string): ChatMessage {
  const m: ChatMessage = { role: 'user', content: [{ type: 'image_url', image_url: { url: imageUrl } }, { type: 'text', text }] };
  messageJson.set(m, [imageHead(imageUrl), Buffer.from(`{"type":"text","text":${JSON.stringify(text)}}]}`)]);
  return m;
}

/** The images' heads held now (test 60: bounded). */
export function imageHeadsHeld(): { entries: number; bytes: number } {
  return { entries: imageHeads.size, bytes: imageHeadBytes };
}

function messageBytes(m: ChatMessage): Buffer | readonly Buffer[] {
  let b = messageJson.get(m);
  if (!b) {
    b = Buffer.from(JSON.stringify(m));
    messageJson.set(m, b);
  }
  return b;
}

/** Everything after the messages array, from the same builder as the
 * object form, so the key order cannot drift from requestBody's. */
function tailBytes(ep: Endpoint, p: TurnParams): Buffer {
  let b = tailByParams.get(p);
  if (!b) tailByParams.set(p, (b = tailByFields(ep, p)));
  return b;
}

function tailByFields(ep: Endpoint, p: TurnParams): Buffer {
  let byFields = tails.get(p.tools);
  if (!byFields) {
    byFields = new Map();
    tails.set(p.tools, byFields);
  }
  // Every field but the schemas (keyed above), so a field added to
  // TurnParams can never be served a tail cached without it.
  const key = JSON.stringify(p, (k, v: unknown) => (k === 'tools' ? undefined : v));
  let b = byFields.get(key);
  if (!b) {
    const whole = JSON.stringify({ ...requestBody(ep, [], p, true), model: undefined });
    // '{"messages":[],' ... '}' -> '],' ... '}'
    const head = '{"messages":[';
    if (!whole.startsWith(head)) throw new Error('requestBody: messages is not the first field after model');
    b = Buffer.from(whole.slice(head.length));
    byFields.set(key, b);
  }
  return b;
}

function prefixBytes(model: string): Buffer {
  let b = prefixes.get(model);
  if (!b) {
    b = Buffer.from(`{"model":${JSON.stringify(model)},"messages":[`);
    if (prefixes.size < 64) prefixes.set(model, b);
  }
  return b;
}

/** Bodies are cut from slabs of this size: a body (~6 KB with its image)
 * is over Buffer's pool limit (4 KB), so each one was an ArrayBuffer of its
 * own, allocated, zone-tracked and collected per turn. A slab is dropped
 * once every body cut from it is (a sent body is not kept). Below malloc's
 * mmap threshold (128 KiB), so a new slab reuses freed heap memory: 1 MiB
 * slabs were fresh mappings, a page fault per 4 KiB written (a micro-bench
 * of 160,000 bodies: 33,700 faults vs 20,900 at 64 KiB, 26,100 before). */
const SLAB_BYTES = 64 * 1024;
const SLAB_MAX_BODY = SLAB_BYTES / 4;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

function bodyBuffer(n: number): Buffer {
  if (n > SLAB_MAX_BODY) return Buffer.allocUnsafe(n);
  if (slabUsed + n > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const b = slab.subarray(slabUsed, slabUsed + n);
  // 8-byte aligned, as Buffer's own pool cuts.
  slabUsed = (slabUsed + n + 7) & ~7;
  return b;
}

/** The streamed request's body bytes (one copy of the cached parts). */
export function streamedBodyBytes(ep: Endpoint, messages: readonly ChatMessage[], p: TurnParams): Buffer {
  const prefix = prefixBytes(ep.model);
  const tail = tailBytes(ep, p);
  const n = messages.length;
  const parts = new Array<Buffer | readonly Buffer[]>(n);
  let total = prefix.length + tail.length + (n > 0 ? n - 1 : 0);
  for (let i = 0; i < n; i++) {
    const b = messageBytes(messages[i]!);
    parts[i] = b;
    if (Buffer.isBuffer(b)) total += b.length;
    else for (const x of b) total += x.length;
  }
  const out = bodyBuffer(total);
  out.set(prefix, 0);
  let pos = prefix.length;
  for (let i = 0; i < n; i++) {
    if (i > 0) out[pos++] = COMMA;
    const b = parts[i]!;
    if (Buffer.isBuffer(b)) {
      out.set(b, pos);
      pos += b.length;
    } else {
      for (const x of b) {
        out.set(x, pos);
        pos += x.length;
      }
    }
  }
  out.set(tail, pos);
  return out;
}
