// The request planner: from a validated chat request to everything the
// response will say (prompt tokens, cache hits, the generated text cut at
// max_tokens plus the stop token, the SSE events as vLLM groups them by
// --stream-interval after its tool parser, the finish reason). No I/O besides reading the image; the stream writer and the wire
// encoders do the rest.
import type { Conversation } from './conversation';
import { engineRequest, type RealtimeEngine } from './engine-clock';
import type { EngineRequest } from './engine-model';
import type { EngineQueue } from './latency';
import type { SimMetrics } from './metrics';
import { generate, type ProfileName } from './profiles';
import { hermesParse, type ParsedCall } from './hermes';
import { HermesStreamParser } from './hermes-stream';
import { badRequest, DEFAULTABLE_SAMPLING, type ChatRequest, type Sampling } from './request';
import { hash32 } from '../../util/rng';
import { countTokens, streamGroups } from './tokenizer';
import { toolsBlockTokens } from './tools-block';
import { ImageError, seeImage, type Sight } from './vision';
import type { FinishReason, WireDelta } from './wire';
import type { PredictorAnswerSpec } from '../../protocol/predictor-answer';

export interface ServedModel {
  name: string;
  profile: ProfileName;
  root: string;
  /** The predictor's configured answer format (prompts.predictor). */
  answerFormat?: PredictorAnswerSpec | undefined;
  queue: EngineQueue;
  metrics: SimMetrics;
  /** The continuous-batching engine model, when the simulator runs one. */
  engine?: RealtimeEngine | undefined;
}

export interface PlannerSettings {
  seed: number;
  /** vLLM's --stream-interval (backend.streamInterval). */
  streamInterval: number;
  maxModelLen: number;
  maxImagesPerPrompt: number;
  /** The `--allowed-local-media-path` value as given (not resolved). */
  allowedLocalMediaPath: string | undefined;
  /** `--enable-auto-tool-choice --tool-call-parser hermes`. */
  serverParse: boolean;
  /** Server sampling defaults (vLLM: the model folder's
   * generation_config.json under --generation-config auto). */
  samplingDefaults: Sampling;
}

// ChatCompletionRequest._DEFAULT_SAMPLING_PARAMS (protocol.py): what applies
// when neither the request nor the server gives a value.
const OPENAI_DEFAULTS: Required<Sampling> = { temperature: 1, top_p: 1, top_k: 0, min_p: 0, repetition_penalty: 1 };

/** Request value, else server default, else OpenAI default (vLLM's order). */
export function effectiveSampling(req: Sampling, server: Sampling): Required<Sampling> {
  const out = { ...OPENAI_DEFAULTS };
  for (const k of DEFAULTABLE_SAMPLING) out[k] = req[k] ?? server[k] ?? OPENAI_DEFAULTS[k];
  return out;
}

/** The simulated models ignore temperature (they are deterministic), but a
 * truncating or penalising sampler changes what they say: the draws are
 * re-keyed, so results depend on those settings as a real model's would. */
function samplingSeed(seed: number, e: Required<Sampling>): number {
  const shaping = (e.top_p !== 1 || (e.top_k !== 0 && e.top_k !== -1) || e.min_p !== 0 || e.repetition_penalty !== 1);
  return shaping ? seed + hash32(`${e.top_p}|${e.top_k}|${e.min_p}|${e.repetition_penalty}`) : seed;
}

export interface Step {
  delta: WireDelta;
  finish: FinishReason | null;
  /** Tokens generated since the previous sent step (the latency model
   * sleeps one decode step per token). */
  tokens: number;
}

export interface Plan {
  model: ServedModel;
  req: ChatRequest;
  promptTokens: number;
  cachedTokens: number;
  imageMiss: number;
  completionTokens: number;
  /** What the engine model needs to schedule the request. */
  engineReq: Omit<EngineRequest, 'id'> | null;
  /** The streamed deltas after the role chunk; the last one finishes. */
  steps: Step[];
  /** Non-streamed: the parsed message and its finish reason. */
  full: { content: string | null; calls: ParsedCall[]; finish: FinishReason };
  /** Finish reason of the streamed form. */
  finish: FinishReason;
}

function look(conv: Conversation, model: ServedModel, s: PlannerSettings): { sight: Sight | null; imageTokens: number; imageMiss: number } {
  if (conv.imageUrls.length > s.maxImagesPerPrompt) {
    throw badRequest(`At most ${s.maxImagesPerPrompt} image(s) may be provided in one prompt. Set \`--limit-mm-per-prompt\` to increase this limit.`);
  }
  let sight: Sight | null = null;
  let imageMiss = 0;
  let imageTokens = 0;
  for (const url of conv.imageUrls) {
    let seen: Sight;
    try {
      seen = seeImage(url, s.allowedLocalMediaPath);
    } catch (e) {
      if (e instanceof ImageError) throw badRequest(e.message);
      throw e;
    }
    sight ??= seen;
    imageTokens += seen.imageTokens + 2;
    if (!model.metrics.image(seen.hash)) imageMiss++;
  }
  return { sight, imageTokens, imageMiss };
}

/** vLLM's length check (vllm/entrypoints/openai/engine/serving.py
 * _validate_input): input plus requested output must fit max_model_len. */
export function contextLengthError(input: number, requested: number, maxModelLen: number): string {
  return `You passed ${input} input tokens and requested ${requested} output tokens. However, the model's context length is only ${maxModelLen} tokens, resulting in a maximum input length of ${maxModelLen - requested} tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=${input})`;
}

/** The streamed steps: per output the engine sends (one per entry of
 * `deltas`, `tokens[i]` tokens each; output_processor.py groups them by
 * --stream-interval) the raw delta, or what the hermes parser makes of the
 * text so far. vllm/entrypoints/openai/chat_completion/serving.py
 * chat_completion_stream_generator: without a parser every output is sent as
 * DeltaMessage(content=delta_text), even an empty one (an output always has
 * token ids, so the chunked-prefill skip never applies); with one, a null
 * delta is not sent unless the output finishes (then DeltaMessage());
 * finish_reason becomes "tool_calls" whenever tool calls were streamed, even
 * when max_tokens cut the turn ("length" is then lost: read at 5e918640;
 * vllm-project/vllm issue #53269, the fix PRs #46303 and #47963 still open). */
export function streamSteps(deltas: readonly string[], truncated: boolean, parse: boolean, tokens?: readonly number[]): { steps: Step[]; finish: FinishReason } {
  const modelFinish: FinishReason = truncated ? 'length' : 'stop';
  if (deltas.length === 0) return { steps: [{ delta: { content: '' }, finish: modelFinish, tokens: 1 }], finish: modelFinish };
  const parser = parse ? new HermesStreamParser() : null;
  const steps: Step[] = [];
  let text = '';
  let toolsStreamed = false;
  let pending = 0;
  deltas.forEach((d, i) => {
    const last = i === deltas.length - 1;
    text += d;
    pending += tokens?.[i] ?? 1;
    let delta: WireDelta;
    if (parser) {
      const p = parser.step(text);
      if (p && p.toolCalls.length > 0) toolsStreamed = true;
      delta = p ? { parser: p } : null;
    } else {
      delta = { content: d };
    }
    if (delta === null && !last) return;
    steps.push({ delta, finish: last ? (toolsStreamed ? 'tool_calls' : modelFinish) : null, tokens: pending });
    pending = 0;
  });
  return { steps, finish: steps.at(-1)!.finish! };
}

export function planRequest(req: ChatRequest, conv: Conversation, model: ServedModel, s: PlannerSettings): Plan {
  const { sight, imageTokens, imageMiss } = look(conv, model, s);
  const messageTokens = conv.texts.map((t) => countTokens(t) + 5);
  if (messageTokens.length > 0) messageTokens[0]! += toolsBlockTokens(req.toolsSent) + imageTokens;
  let promptTokens = 3;
  for (const n of messageTokens) promptTokens += n;
  if (promptTokens + (req.maxTokens ?? 0) > s.maxModelLen || promptTokens >= s.maxModelLen) {
    throw badRequest(contextLengthError(promptTokens, req.maxTokens ?? 0, s.maxModelLen), 'input_tokens');
  }
  const maxTokens = req.maxTokens ?? s.maxModelLen - promptTokens;
  const cachedTokens = model.metrics.prompt(conv.texts, messageTokens, promptTokens);
  const seed = samplingSeed(s.seed, effectiveSampling(req.sampling, s.samplingDefaults));
  const text = generate({ seed, profile: model.profile, conv, seen: sight?.seen ?? new Set(), imageHash: sight?.hash ?? 'no-image', answerFormat: model.answerFormat });
  const groups = streamGroups(text, s.streamInterval, maxTokens);
  // vLLM runs the tool parser only with tools, a parser, and tool_choice "auto".
  const parse = s.serverParse && req.tools !== undefined && (req.toolChoice === 'auto' || req.toolChoice === undefined);
  const { steps, finish } = streamSteps(groups.deltas, groups.truncated, parse, groups.eventTokens);
  const all = groups.deltas.join('');
  const modelFinish: FinishReason = groups.truncated ? 'length' : 'stop';
  const parsed = parse ? hermesParse(all) : null;
  const full = parsed && parsed.calls.length > 0
    ? { content: parsed.content, calls: parsed.calls, finish: 'tool_calls' as const }
    : { content: all, calls: [], finish: modelFinish };
  // The stop token is a decode step of the engine like any other.
  const engineReq = model.engine ? engineRequest(conv.texts, messageTokens, imageTokens, sight?.hash ?? null, promptTokens, groups.tokens) : null;
  return { model, req, promptTokens, cachedTokens, imageMiss, completionTokens: groups.tokens, engineReq, steps, full, finish };
}
