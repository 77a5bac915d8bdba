// The JSON body of a streamed turn, built from parts encoded once: each
// message's JSON (a conversation's earlier messages, with the image data
// URL, go out again on every later turn), the model prefix and the tail of
// sampling fields and tool schemas (fixed for a tool set and its settings). The bytes are
// exactly JSON.stringify(requestBody(ep, messages, params, true)) (test 60).
import type { Endpoint } from '../backends/types';
import { requestBody, type ChatMessage, type TurnParams } from './chat-request';

const COMMA = Buffer.from(',');

/** Messages are never changed once in a conversation (the tool loop only
 * appends), so a message object's JSON is its JSON for good. */
const messageJson = new WeakMap<ChatMessage, Buffer>();
/** By tool schemas (one array per tool set for a whole run: suite-phase.ts), then by the scalar fields. */
const tails = new WeakMap<readonly object[], Map<string, Buffer>>();
const prefixes = new Map<string, Buffer>();

function messageBytes(m: ChatMessage): Buffer {
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

/** The streamed request's body bytes (one copy of the cached parts). */
export function streamedBodyBytes(ep: Endpoint, messages: readonly ChatMessage[], p: TurnParams): Buffer {
  const parts: Buffer[] = [prefixBytes(ep.model)];
  let total = parts[0]!.length;
  messages.forEach((m, i) => {
    if (i > 0) {
      parts.push(COMMA);
      total += 1;
    }
    const b = messageBytes(m);
    parts.push(b);
    total += b.length;
  });
  const tail = tailBytes(ep, p);
  parts.push(tail);
  return Buffer.concat(parts, total + tail.length);
}
