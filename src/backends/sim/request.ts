// The edge of the simulator: an HTTP body becomes a typed chat request, or a
// VllmError carrying the status, type and message vLLM would send. The
// tool rules follow ChatCompletionRequest.check_tool_usage in
// vllm/entrypoints/openai/chat_completion/protocol.py (read at
// vllm-project/vllm@002032ee).

export class VllmError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly param: string | null = null) {
    super(message);
  }
  /** vLLM >= 0.10.1 error body (PR #22099). */
  body(): string {
    return JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.status } });
  }
}

export const badRequest = (msg: string, param: string | null = null) => new VllmError(400, 'BadRequestError', msg, param);

export interface ContentPart {
  type: string;
  text?: string;
  image_url?: { url?: string } | string;
}

export interface ChatMessage {
  role: string;
  content: string | ContentPart[] | null;
  tool_calls?: Array<{ function?: { name?: string; arguments?: string } }>;
}

/** The sampling fields vLLM fills from --generation-config defaults when a
 * request leaves them out (ChatCompletionRequest.to_sampling_params). */
export const DEFAULTABLE_SAMPLING = ['temperature', 'top_p', 'top_k', 'min_p', 'repetition_penalty'] as const;
export type SamplingKey = (typeof DEFAULTABLE_SAMPLING)[number];
export type Sampling = Partial<Record<SamplingKey, number>>;

export interface ChatRequest {
  model: string | undefined;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  tools: Array<{ function: { name: string } }> | undefined;
  /** The tools as sent (parsed), for counting the tokens of the rendered
   * tools block; undefined without tools. */
  toolsSent: unknown[] | undefined;
  toolChoice: 'none' | 'auto' | 'required' | { name: string } | undefined;
  seed: number | undefined;
  /** The defaultable sampling fields the request gave. */
  sampling: Sampling;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const CORRECT_USAGE = 'Correct usage: `{"type": "function", "function": {"name": "my_function"}}`';

/** check_tool_usage: tools: [] is refused; tools without tool_choice mean
 * "auto"; "none" needs no tools; anything else needs tools, and a named
 * choice must name one of them. */
function parseToolChoice(body: Record<string, unknown>, tools: ChatRequest['tools']): ChatRequest['toolChoice'] {
  if (Array.isArray(body.tools) && body.tools.length === 0) {
    throw badRequest('`tools` must not be an empty array. Either provide at least one tool or omit the field entirely.', 'tools');
  }
  const v = 'tool_choice' in body ? body.tool_choice : tools ? 'auto' : undefined;
  if (v === undefined || v === null) return undefined;
  if (v === 'none') return 'none';
  if (!tools) throw badRequest('When using `tool_choice`, `tools` must be set.', 'tool_choice');
  if (v === 'auto' || v === 'required') return v;
  if (!isObj(v)) throw badRequest(`Invalid value for \`tool_choice\`: ${String(v)}! Only named tools, "none", "auto" or "required" are supported.`, 'tool_choice');
  const fn = v.function;
  if (!isObj(fn)) throw badRequest(`Invalid value for \`function\`: \`${JSON.stringify(fn ?? null)}\` in \`tool_choice\`! ${CORRECT_USAGE}`, 'tool_choice.function');
  if (!('name' in fn)) throw badRequest(`Expected field \`name\` in \`function\` in \`tool_choice\`! ${CORRECT_USAGE}`, 'tool_choice.function.name');
  if (typeof fn.name !== 'string' || fn.name.length === 0) throw badRequest(`Invalid \`name\` in \`function\`: \`${String(fn.name)}\` in \`tool_choice\`! ${CORRECT_USAGE}`, 'tool_choice.function.name');
  if (!tools.some((t) => t.function.name === fn.name)) throw badRequest('The tool specified in `tool_choice` does not match any of the specified `tools`', 'tool_choice');
  return { name: fn.name };
}

/** Validates the fields the simulator uses; unknown fields are ignored, as vLLM does. */
export function parseChatRequest(raw: string): ChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw badRequest(`JSON decode error: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObj(body)) throw badRequest('Input should be a valid dictionary');
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0) throw badRequest('messages: Field required (a non-empty list)');
  messages.forEach((m, i) => {
    if (!isObj(m) || typeof m.role !== 'string') throw badRequest(`messages.${i}.role: Field required`);
    if (m.content !== undefined && m.content !== null && typeof m.content !== 'string' && !Array.isArray(m.content)) {
      throw badRequest(`messages.${i}.content: Input should be a valid string or list`);
    }
    // vLLM json.loads the arguments of assistant tool calls in the history.
    if (Array.isArray(m.tool_calls)) {
      m.tool_calls.forEach((c: unknown, k: number) => {
        const args = isObj(c) && isObj(c.function) ? c.function.arguments : undefined;
        if (typeof args !== 'string' || args === '') return;
        try {
          JSON.parse(args);
        } catch (e) {
          throw badRequest(`messages.${i}.tool_calls.${k}.function.arguments: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
    }
  });
  const stream = body.stream === true;
  // validate_stream_options: a truthy stream_options without a truthy stream.
  if (isObj(body.stream_options) && Object.keys(body.stream_options).length > 0 && !stream) {
    throw badRequest('Stream options can only be defined when `stream=True`.', 'stream_options');
  }
  const so = isObj(body.stream_options) ? body.stream_options : undefined;
  const maxRaw = body.max_completion_tokens ?? body.max_tokens;
  if (maxRaw !== undefined && maxRaw !== null && (typeof maxRaw !== 'number' || !Number.isInteger(maxRaw) || maxRaw < 1)) {
    throw badRequest('max_tokens: Input should be a positive integer');
  }
  let tools: ChatRequest['tools'];
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    tools = body.tools.map((t, i) => {
      if (!isObj(t) || !isObj(t.function) || typeof t.function.name !== 'string') throw badRequest(`tools.${i}.function.name: Field required`);
      return { function: { name: t.function.name } };
    });
  }
  const toolChoice = parseToolChoice(body, tools);
  const sampling: Sampling = {};
  for (const k of DEFAULTABLE_SAMPLING) {
    const v = body[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') throw badRequest(`${k}: Input should be a valid number`, k);
    sampling[k] = v;
  }
  return {
    model: typeof body.model === 'string' ? body.model : undefined,
    messages: messages as ChatMessage[],
    stream,
    includeUsage: so ? so.include_usage !== false : false,
    maxTokens: typeof maxRaw === 'number' ? maxRaw : undefined,
    tools,
    toolsSent: tools ? (body.tools as unknown[]) : undefined,
    toolChoice,
    seed: typeof body.seed === 'number' ? body.seed : undefined,
    sampling,
  };
}
