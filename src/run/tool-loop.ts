// The multi-turn loop shared by both pipelines: send a turn, execute the
// tool calls it made, append the raw assistant text and the tool responses,
// and go again until the model answers without calling a tool or the turn
// budget is spent. Every turn and every call becomes a row.
import { performance } from 'node:perf_hooks';
import type { AnswerKind, ExtractedToolCall, FinalAnswer, StreamResult } from '../extract/types';
import { ACCEPTED_CALL_STATUSES } from '../extract/types';
import type { OracleTruth } from '../tools/types';
import type { ToolCallRow, TurnRow } from '../store/rows';
import type { ChatClient, RetryPolicy, TurnOutcome } from './turn';
import type { EndpointLimiter } from './limiter';
import type { ToolBatcher } from './tool-batcher';
import { storedRequest, type ChatMessage, type StoredRequest, type TurnParams } from './chat-request';
import { noteRowParts } from '../store/request-parts';
import { isLatAction, isLongAction, isScene } from '../domain/enums';
import { assistantMessage, historyEntries } from './history';
import type { Stated } from '../protocol/definitions';
import { stripUrlCredentials } from '../util/text';
import { contextLengthNote } from './context-length';

export interface LoopContext {
  experimentId: string;
  sampleId: number;
  client: ChatClient;
  limiter: EndpointLimiter;
  tools: ToolBatcher;
  retry: RetryPolicy;
  maxTurns: number;
  baseParams: Omit<TurnParams, 'tools' | 'toolNames'>;
  openAiTools: (names: readonly string[]) => object[];
  /** Every tool name the extractor should treat as known (untagged fallback). */
  knownTools: readonly string[];
  oracle: OracleTruth | undefined;
  imageRef: (url: string) => string;
}

export type LoopStatus = 'answered' | 'max_turns' | 'server_error' | 'timeout';

export interface LoopResult {
  status: LoopStatus;
  error: string | null;
  last: StreamResult | null;
  /** Parsed answer of the last completed turn. */
  answer: FinalAnswer | null;
  /** The stated prediction after each completed turn, in order. */
  statedAfter: Stated[];
  /** The first assistant turn's own statement (before any tool response). */
  firstStated: Stated | null;
  /** Scene argument of the first tool call, when the model called before stating. */
  firstCallScene: string | null;
  nextTurnIndex: number;
  nextCallOrder: number;
  sums: { queueWaitMs: number; e2eMs: number; decodeMs: number; promptTokens: number; completionTokens: number; retries: number; firstTtftMs: number | null };
}

const ACCEPTED = new Set<string>(ACCEPTED_CALL_STATUSES);

function statedFrom(prev: Stated, a: FinalAnswer): Stated {
  return {
    scene: a.scene !== null && isScene(a.scene) ? a.scene : prev.scene,
    longAction: a.longAction !== null && isLongAction(a.longAction) ? a.longAction : prev.longAction,
    latAction: a.latAction !== null && isLatAction(a.latAction) ? a.latAction : prev.latAction,
  };
}

function firstChange(a: Stated, b: Stated): { field: string; old: string | null; now: string | null } | null {
  if (a.scene !== b.scene) return { field: 'scene', old: a.scene, now: b.scene };
  if (a.longAction !== b.longAction) return { field: 'long_action', old: a.longAction, now: b.longAction };
  if (a.latAction !== b.latAction) return { field: 'lat_action', old: a.latAction, now: b.latAction };
  return null;
}

/** tool_calls.tool_name is NOT NULL in the plan's schema: calls whose name
 * could not be read are stored under this marker (their raw text is kept). */
export const UNREADABLE_TOOL_NAME = '<unparsed>';

const UNPARSED_RESPONSE = JSON.stringify({ error: 'could not parse the tool call', expected: '<tool_call>{"name": "<tool name>", "arguments": {...}}</tool_call>' });

type LoopSums = LoopResult['sums'];

/** One TurnParams object per condition's base parameters and tool set, not
 * one per loop: the request tail, the stored params text and their caches
 * (request-body.ts, chat-request.ts) are keyed by its identity, so every
 * loop of a condition finds them built. Never changed once made. */
const paramsByBase = new WeakMap<object, WeakMap<readonly string[], TurnParams>>();

function loopParams(ctx: LoopContext, toolNames: readonly string[]): TurnParams {
  let byTools = paramsByBase.get(ctx.baseParams);
  if (!byTools) paramsByBase.set(ctx.baseParams, (byTools = new WeakMap()));
  let p = byTools.get(toolNames);
  if (!p) byTools.set(toolNames, (p = { ...ctx.baseParams, tools: ctx.openAiTools(toolNames), toolNames }));
  return p;
}

/** Waits for a slot on the endpoint (continuations first), then sends. */
async function sendTurn(ctx: LoopContext, messages: ChatMessage[], params: TurnParams, kind: AnswerKind, isContinuation: boolean): Promise<{ outcome: TurnOutcome; queueWait: number }> {
  const q0 = performance.now();
  await ctx.limiter.acquire(isContinuation);
  const queueWait = performance.now() - q0;
  try {
    const outcome = await ctx.client.turn(messages, params, { knownTools: ctx.knownTools, offeredTools: params.toolNames, answerKind: kind }, ctx.retry);
    return { outcome, queueWait };
  } finally {
    ctx.limiter.release();
  }
}

function addTiming(sums: LoopSums, outcome: TurnOutcome, queueWait: number): void {
  const r = outcome.result;
  sums.queueWaitMs += queueWait;
  sums.e2eMs += outcome.timing.e2eMs;
  sums.decodeMs += outcome.timing.decodeMs ?? 0;
  sums.retries += outcome.retries;
  if (sums.firstTtftMs === null && outcome.timing.ttftMs !== null) sums.firstTtftMs = outcome.timing.ttftMs;
  if (r?.usage) {
    sums.promptTokens += r.usage.promptTokens;
    sums.completionTokens += r.usage.completionTokens;
  }
}

function turnRow(ctx: LoopContext, stage: string, turnIndex: number, request: StoredRequest, outcome: TurnOutcome, queueWait: number, after: Stated): TurnRow {
  const r = outcome.result;
  const chunks = outcome.timing.chunkOffsetsMs;
  const row: TurnRow = {
    experiment_id: ctx.experimentId,
    sample_id: ctx.sampleId,
    turn_index: turnIndex,
    stage,
    endpoint: stripUrlCredentials(outcome.endpoint ?? ctx.client.endpoint.baseUrl),
    request_json: request.json,
    request_parts: request.parts,
    request_params: request.params,
    response_text: r ? r.text : null,
    reasoning_text: r && r.reasoning ? r.reasoning : null,
    finish_reason: r ? r.finishReason : null,
    status: outcome.status,
    error: outcome.error,
    retries: outcome.retries,
    queue_wait_ms: queueWait,
    ttft_ms: outcome.timing.ttftMs,
    decode_ms: outcome.timing.decodeMs,
    e2e_ms: outcome.timing.e2eMs,
    prompt_tokens: r?.usage?.promptTokens ?? null,
    completion_tokens: r?.usage?.completionTokens ?? null,
    chunk_times: new Uint8Array(chunks.buffer, chunks.byteOffset, chunks.byteLength),
    stated_scene: after.scene,
    stated_long_action: after.longAction,
    stated_lat_action: after.latAction,
  };
  if (request.partsObject) noteRowParts(row, request.partsObject);
  return row;
}

/** Records on each call of the previous turn whether the model's statement
 * changed after it (known only once the next turn has answered). */
function settleCalls(rows: ToolCallRow[], before: Stated, after: Stated): void {
  for (const row of rows) {
    const ch = firstChange(before, after);
    row.model_revised_after = ch ? 1 : 0;
    row.revised_field = ch?.field ?? null;
    row.old_value = ch?.old ?? null;
    row.new_value = ch?.now ?? null;
  }
}

/** The rows one sample's loops produce, and the loops' own bookkeeping
 * (kept beside the rows, never in them). */
export interface SampleLog {
  turns: TurnRow[];
  calls: ToolCallRow[];
  /** Messages the last turn sent: the next turn stores only what is new. */
  lastSent: number;
  /** The call (tool_call_order) each tool message answers, by message
   * index: its content is stored once, as that call's tool_result_json. */
  callAt: Map<number, number>;
}

export function newSampleLog(): SampleLog {
  return { turns: [], calls: [], lastSent: 0, callAt: new Map() };
}

/**
 * Runs turns until the model answers. `messages` is extended in place.
 * `log` receives the rows. `stated` is the prediction before the loop (what
 * revisions are measured against).
 */
export async function runToolLoop(
  ctx: LoopContext,
  messages: ChatMessage[],
  stage: string,
  toolNames: readonly string[],
  kind: AnswerKind,
  stated: Stated,
  start: { turnIndex: number; callOrder: number },
  log: SampleLog,
): Promise<LoopResult> {
  const { turns, calls } = log;
  const params = loopParams(ctx, toolNames);
  const sums: LoopSums = { queueWaitMs: 0, e2eMs: 0, decodeMs: 0, promptTokens: 0, completionTokens: 0, retries: 0, firstTtftMs: null };
  const statedAfter: Stated[] = [];
  let current = stated;
  let turnIndex = start.turnIndex;
  let callOrder = start.callOrder;
  let firstStated: Stated | null = null;
  let firstCallScene: string | null = null;
  // Calls made in the previous turn wait for the next turn's statement to
  // know whether the model revised after them.
  let pendingCalls: ToolCallRow[] = [];

  for (let t = 0; t < ctx.maxTurns; t++) {
    // The previous turn's messages, its reply and the tool messages after
    // it were stored with it; this turn stores what is new.
    const from = log.lastSent;
    const { outcome, queueWait } = await sendTurn(ctx, messages, params, kind, turnIndex > 0);
    const r = outcome.result;
    addTiming(sums, outcome, queueWait);
    const answer = r ? r.finalAnswer : null;
    const after = answer ? statedFrom(current, answer) : current;
    turns.push(turnRow(ctx, stage, turnIndex, storedRequest(messages, from, ctx.imageRef, params, ctx.client.endpoint.model, turns.at(-1)?.response_text ?? null, (i) => log.callAt.get(i)), outcome, queueWait, after));
    log.lastSent = messages.length;
    turnIndex++;
    if (!r) {
      return { status: outcome.status === 'timeout' ? 'timeout' : 'server_error', error: outcome.error === null ? null : contextLengthNote(outcome.error, ctx.sampleId) ?? outcome.error, last: null, answer: null, statedAfter, firstStated, firstCallScene, nextTurnIndex: turnIndex, nextCallOrder: callOrder, sums };
    }
    settleCalls(pendingCalls, current, after);
    pendingCalls = [];
    current = after;
    statedAfter.push(after);
    if (t === 0 && firstStated === null && answer && (answer.scene !== null || answer.longAction !== null)) firstStated = after;

    const made = r.toolCalls.filter((c) => c.status !== 'in_reasoning');
    const reasoningOnly = r.toolCalls.filter((c) => c.status === 'in_reasoning');
    const entries = historyEntries(ctx.baseParams.parseMode, made, turnIndex - 1);
    messages.push(assistantMessage(ctx.baseParams.parseMode, r.text, entries));
    const responses = await Promise.all(entries.map((e) => (e.skip ? notReplayed(e.call, e.skip) : executeCall(ctx, e.call, toolNames))));
    for (const c of reasoningOnly) calls.push(callRow(ctx, c, callOrder++, turnIndex - 1, null));
    made.forEach((c, i) => {
      const resp = responses[i]!;
      const row = callRow(ctx, c, callOrder++, turnIndex - 1, resp);
      calls.push(row);
      pendingCalls.push(row);
      firstCallScene ??= sceneArgument(c);
      const id = entries[i]!.id;
      if (id === null || resp.responseJson === null) return;
      log.callAt.set(messages.length, row.tool_call_order);
      messages.push({ role: 'tool', content: resp.responseJson, tool_call_id: id });
    });
    // Nothing answered (no calls, or none that could be replayed): the turn is the answer.
    if (!entries.some((e) => e.id !== null)) {
      return { status: 'answered', error: null, last: r, answer, statedAfter, firstStated, firstCallScene, nextTurnIndex: turnIndex, nextCallOrder: callOrder, sums };
    }
  }
  // The last turn still called tools: the budget is spent.
  return { status: 'max_turns', error: null, last: null, answer: null, statedAfter, firstStated, firstCallScene, nextTurnIndex: turnIndex, nextCallOrder: callOrder, sums };
}

interface CallResponse {
  responseJson: string | null;
  validity: { parsed: boolean; knownTool: boolean; requiredArgsPresent: boolean; schemaValid: boolean; executedOk: boolean; error: string | null };
  timeUs: number | null;
}

/** The scene a call's arguments name, if any. */
function sceneArgument(c: ExtractedToolCall): string | null {
  if (!c.arguments || typeof c.arguments !== 'object') return null;
  const a = c.arguments as Record<string, unknown>;
  const s = a['predicted_scene'] ?? a['scene'];
  return typeof s === 'string' && isScene(s) ? s : null;
}

/** A call the history cannot carry back (server parse mode): recorded, not run. */
async function notReplayed(c: ExtractedToolCall, why: string): Promise<CallResponse> {
  return { responseJson: null, validity: { parsed: ACCEPTED.has(c.status), knownTool: false, requiredArgsPresent: false, schemaValid: false, executedOk: false, error: why }, timeUs: null };
}

async function executeCall(ctx: LoopContext, c: ExtractedToolCall, offered: readonly string[]): Promise<CallResponse & { responseJson: string }> {
  if (!ACCEPTED.has(c.status)) {
    return { responseJson: UNPARSED_RESPONSE, validity: { parsed: false, knownTool: false, requiredArgsPresent: false, schemaValid: false, executedOk: false, error: `tool call not parsed (${c.status})` }, timeUs: null };
  }
  const o = await ctx.tools.run({ sampleId: ctx.sampleId, name: c.name, arguments: c.arguments, offered, ...(ctx.oracle ? { oracle: ctx.oracle } : {}) });
  return { responseJson: o.responseJson, validity: o.validity, timeUs: o.timeUs };
}

function callRow(ctx: LoopContext, c: ExtractedToolCall, order: number, turnIndex: number, resp: CallResponse | null): ToolCallRow {
  const b = (v: boolean | undefined) => (v === undefined ? null : v ? 1 : 0);
  let argsJson: string | null = null;
  if (c.arguments !== null && c.arguments !== undefined) {
    try { argsJson = JSON.stringify(c.arguments); } catch { argsJson = null; }
  }
  return {
    experiment_id: ctx.experimentId,
    sample_id: ctx.sampleId,
    tool_call_order: order,
    tool_name: c.name ?? UNREADABLE_TOOL_NAME,
    tool_arguments_json: argsJson,
    tool_result_json: resp?.responseJson ?? null,
    model_revised_after: null,
    revised_field: null,
    old_value: null,
    new_value: null,
    turn_index: turnIndex,
    call_status: c.status,
    repairs_json: JSON.stringify(c.repairs),
    source: c.source,
    raw_text: c.raw,
    parsed: resp ? b(resp.validity.parsed) : 0,
    known_tool: resp ? b(resp.validity.knownTool) : null,
    required_args_present: resp ? b(resp.validity.requiredArgsPresent) : null,
    schema_valid: resp ? b(resp.validity.schemaValid) : null,
    executed_ok: resp ? b(resp.validity.executedOk) : 0,
    error: resp ? resp.validity.error : 'reasoning, not a call',
    tool_time_us: resp?.timeUs ?? null,
  };
}
