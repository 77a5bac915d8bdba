// The JSON body of one chat completion, and its compact stored form.
import type { Endpoint } from '../backends/types';
import { partOf, type Joined } from '../store/request-parts';

export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** A call the assistant made, as history carries it back to the server:
 * vLLM json.loads `arguments`, so it is always valid JSON of an object. */
export interface AssistantToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content: string; tool_calls?: AssistantToolCall[] }
  | { role: 'tool'; content: string; tool_call_id: string };

/** Every sampling parameter vLLM would otherwise fill from the model
 * folder's generation_config.json (--generation-config auto: request value,
 * then the file's, then the OpenAI default), pinned to the neutral values so
 * results never depend on a file the experiment does not record. top_k -1
 * (not 0) means "off" in every vLLM version. */
export const PINNED_SAMPLING = { top_p: 1, top_k: -1, min_p: 0, repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0 } as const;

/** The sampling fields of a request; also what `experiments.sampling_json` records. */
export function samplingFields(p: Pick<TurnParams, 'temperature' | 'seed' | 'maxTokens'>): Record<string, number> {
  // max_completion_tokens: max_tokens is deprecated in vLLM's protocol.py.
  return { temperature: p.temperature, ...PINNED_SAMPLING, seed: p.seed, max_completion_tokens: p.maxTokens };
}

export interface TurnParams {
  tools: readonly object[];
  toolNames: readonly string[];
  parseMode: 'client' | 'server';
  maxTokens: number;
  temperature: number;
  seed: number;
}

export function requestBody(ep: Endpoint, messages: readonly ChatMessage[], p: TurnParams, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: ep.model,
    messages,
    ...samplingFields(p),
    // <tool_call> tags are not special tokens in Qwen's tokenizer, but a
    // fine-tuned checkpoint may have re-registered them: keep them either way.
    skip_special_tokens: false,
    stream,
  };
  if (stream) body['stream_options'] = { include_usage: true };
  if (p.tools.length > 0) {
    body['tools'] = p.tools;
    // Client-side parsing needs "none" explicitly: omitted means "auto",
    // which a server started without a tool parser answers with a 400.
    body['tool_choice'] = p.parseMode === 'client' ? 'none' : 'auto';
  }
  return body;
}

// A loop's parameters are one object for all its turns: serialised once.
const paramsCache = new WeakMap<TurnParams, Map<string, string>>();

function storedParams(p: TurnParams, model: string): string {
  let byModel = paramsCache.get(p);
  if (!byModel) paramsCache.set(p, (byModel = new Map()));
  let text = byModel.get(model);
  if (text === undefined) {
    text = JSON.stringify({ model, tools: p.toolNames, tool_choice: p.tools.length ? (p.parseMode === 'client' ? 'none' : 'auto') : undefined, ...samplingFields(p), stream: true });
    byModel.set(model, text);
  }
  return text;
}

/** An image named `sha256:<hex>#sample=<id>` (the sample's own, whose hash
 * predictions.image_sha256 holds) is stored as its first 8 hex digits: the
 * reader rebuilds the name from the prediction row and checks them. */
function imageMark(ref: string): string | { $image: string } {
  const m = /^sha256:([0-9a-f]{8})[0-9a-f]{56}#sample=\d+$/.exec(ref);
  return m ? { $image: m[1]! } : ref;
}

/** What is stored per turn: the messages this turn added to the
 * conversation (from index `messages_from`), images by content hash, long
 * texts by reference (their text in `parts`, see store/request-parts.ts),
 * the echo of the previous turn's reply as {"$reply": true}, a tool
 * message's content as {"$call": order} when `callOf` names the call whose
 * tool_result_json it is; the request parameters (model, tool names,
 * sampling) apart, in `params` (turns.request_params), so that the same
 * prompt sent in several conditions is one text. The full request is the
 * concatenation over turns; `sentBody` rebuilds it. */
export interface StoredRequest {
  json: string;
  parts: string | null;
  params: string;
  /** What `parts` is the JSON of (store/request-parts.ts noteRowParts). */
  partsObject: Record<string, string> | null;
}

export function storedRequest(messages: readonly ChatMessage[], from: number, imageRef: (url: string) => string, p: TurnParams, model: string, prevReply: string | null = null, callOf: (messageIndex: number) => number | undefined = () => undefined): StoredRequest {
  const parts: Record<string, string> = {};
  const added = messages.slice(from).map((m, k): unknown => {
    // Only prompts (system, user) repeat across samples; replies and tool
    // results are the sample's own, stored once in turns and tool_calls.
    if (m.role === 'assistant' && prevReply !== null && m.content === prevReply) return { ...m, content: { $reply: true } };
    if (m.role === 'tool') {
      const order = callOf(from + k);
      return order === undefined ? m : { ...m, content: { $call: order } };
    }
    if (m.role !== 'user' && m.role !== 'system') return m;
    if (typeof m.content === 'string') return { ...m, content: partOf(m.content, parts) };
    return {
      ...m,
      content: m.content.map((part): { type: 'image_url'; image_url: { url: string | { $image: string } } } | { type: 'text'; text: string | Joined } => (part.type === 'image_url'
        ? { type: 'image_url', image_url: { url: imageMark(imageRef(part.image_url.url)) } }
        : { type: 'text', text: partOf(part.text, parts) })),
    };
  });
  const json = JSON.stringify({ messages_from: from, messages: added });
  const some = Object.keys(parts).length > 0;
  return { json, parts: some ? JSON.stringify(parts) : null, params: storedParams(p, model), partsObject: some ? parts : null };
}
