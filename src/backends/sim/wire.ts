// vLLM's OpenAI wire format, as pure functions of what was planned: SSE chunk
// lines, the non-streamed body, /v1/models, error bodies. Field order and
// presence follow pydantic's model_dump_json(exclude_unset=True) in
// vllm/entrypoints/openai/chat_completion/serving.py
// (chat_completion_stream_generator / chat_completion_full_generator, read at
// vllm-project/vllm@006c49d4): a field given explicitly (even None) is
// written, a defaulted one is not.
import type { ParserDelta } from './hermes-stream';
import type { ParsedCall } from './hermes';

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** What one engine step puts in `delta`. */
export type WireDelta =
  /** No parser: DeltaMessage(content=delta_text). */
  | { content: string }
  /** The hermes parser's DeltaMessage(content=..., tool_calls=[...]). */
  | { parser: ParserDelta }
  /** The finishing step had nothing new: DeltaMessage(). */
  | null;

export interface ChunkIds {
  id: string;
  created: number;
  model: string;
  /** serving.py stamps self.system_fingerprint on the final message (the
   * usage chunk, or the finishing chunk when there is no usage chunk) when
   * it is set (--fingerprint-mode in the newest trees); null: not set, and
   * exclude_none leaves the key out. */
  fingerprint: string | null;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

// Every chunk of a response starts the same: built once per response.
const heads = new WeakMap<ChunkIds, string>();
function head(c: ChunkIds): string {
  let h = heads.get(c);
  if (h === undefined) heads.set(c, (h = `data: {"id":"${c.id}","object":"chat.completion.chunk","created":${c.created},"model":${JSON.stringify(c.model)},"choices":[`));
  return h;
}

/** The first chunk: the role, and prompt_token_ids / prompt_text given
 * explicitly as None (return_token_ids / return_prompt_text unset). */
export function roleChunk(c: ChunkIds): string {
  return `${head(c)}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null,"prompt_text":null}\n\n`;
}

function deltaJson(d: WireDelta): string {
  if (d === null) return '{}';
  if ('content' in d) return `{"content":${JSON.stringify(d.content)}}`;
  const calls = d.parser.toolCalls.map((t) => {
    const fn = t.function.name !== undefined ? `{"name":${JSON.stringify(t.function.name)}}` : `{"arguments":${JSON.stringify(t.function.arguments ?? '')}}`;
    return `{${t.id !== undefined ? `"id":"${t.id}","type":"function",` : ''}"index":${t.index},"function":${fn}}`;
  });
  return `{"content":${JSON.stringify(d.parser.content)},"tool_calls":[${calls.join(',')}]}`;
}

/** A token chunk; `finish` set on the last one (with stop_reason, and the
 * fingerprint when no usage chunk follows). */
export function deltaChunk(c: ChunkIds, d: WireDelta, finish: FinishReason | null, usageFollows = true): string {
  const tail = finish === null ? '"finish_reason":null,"token_ids":null' : `"finish_reason":"${finish}","stop_reason":null,"token_ids":null`;
  const fp = finish !== null && !usageFollows && c.fingerprint !== null ? `,"system_fingerprint":${JSON.stringify(c.fingerprint)}` : '';
  return `${head(c)}{"index":0,"delta":${deltaJson(d)},"logprobs":null,${tail}}]${fp}}\n\n`;
}

/** The usage chunk (model_dump_json(exclude_unset=True, exclude_none=True)). */
export function usageChunk(c: ChunkIds, u: Usage): string {
  const fp = c.fingerprint !== null ? `,"system_fingerprint":${JSON.stringify(c.fingerprint)}` : '';
  return `${head(c)}],"usage":{"prompt_tokens":${u.promptTokens},"total_tokens":${u.promptTokens + u.completionTokens},"completion_tokens":${u.completionTokens}}${fp}}\n\n`;
}

export const DONE = 'data: [DONE]\n\n';

/** A mid-stream error event (status already 200), then [DONE]. */
export const errorEvent = (errorBody: string) => `data: ${errorBody}\n\n${DONE}`;

export function completionBody(c: ChunkIds, content: string | null, calls: ReadonlyArray<ParsedCall & { id: string }>, finish: FinishReason, u: Usage): string {
  const message = {
    role: 'assistant', content, refusal: null, annotations: null, audio: null, function_call: null,
    tool_calls: calls.map((k) => ({ id: k.id, type: 'function', function: { name: k.name, arguments: k.arguments } })),
    reasoning_content: null,
  };
  return JSON.stringify({
    id: c.id, object: 'chat.completion', created: c.created, model: c.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish, stop_reason: null }],
    service_tier: null, system_fingerprint: c.fingerprint,
    usage: { prompt_tokens: u.promptTokens, total_tokens: u.promptTokens + u.completionTokens, completion_tokens: u.completionTokens, prompt_tokens_details: null },
    prompt_logprobs: null, prompt_token_ids: null, prompt_text: null, kv_transfer_params: null,
  });
}

/** GET /v1/models (ModelCard / ModelList). */
export function modelsBody(models: ReadonlyArray<{ name: string; root: string }>, created: number, maxModelLen: number, newId: () => string): string {
  return JSON.stringify({
    object: 'list',
    data: models.map((m) => ({
      id: m.name, object: 'model', created, owned_by: 'vllm', root: m.root, parent: null, max_model_len: maxModelLen,
      permission: [{ id: `modelperm-${newId()}`, object: 'model_permission', created, allow_create_engine: false, allow_sampling: true, allow_logprobs: true, allow_search_indices: false, allow_view: true, allow_fine_tuning: false, organization: '*', group: null, is_blocking: false }],
    })),
  });
}
