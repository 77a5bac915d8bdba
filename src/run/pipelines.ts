// What one sample goes through under each pipeline, producing its rows.
// Pipeline A verifies the greedy prediction; Pipeline B predicts in three
// staged turns with the base model alone; the baseline is the greedy
// prediction itself (or the predictor model, run live).
import type { GreedyPrediction, Sample } from '../domain/sample';
import type { PredictionRow, SampleRecord } from '../store/rows';
import type { FinalAnswer } from '../extract/types';
import { isLatAction, isLongAction, isScene } from '../domain/enums';
import { STAGE_ACTION, STAGE_SCENE, STAGE_WAYPOINTS, type Condition } from '../protocol/conditions';
import { correctFlag, flipFlags, isFailedStatus, isRevised, isSceneRevised, type Stated } from '../protocol/definitions';
import { newSampleLog, runToolLoop, type LoopContext, type LoopResult, type SampleLog } from './tool-loop';
import { STAGED_SCENE_PROMPT, stagedActionPrompt, stagedWaypointPrompt, verificationPrompt, waypointLine } from '../protocol/prompts';
import { CHECK_WAYPOINT_FEASIBILITY } from '../protocol/tools';
import type { ChatMessage } from './chat-request';
import { userWithImage } from './request-body';
import type { PromptSet } from './prompt-set';
import { parsePredictorAnswer } from '../extract/predictor-answer';

export type FinalStatus = 'ok' | 'no_final_block' | 'incomplete' | 'invalid_value' | 'max_turns' | 'server_error' | 'timeout';

function gtColumns(s: Sample): Pick<PredictionRow, 'chum_uri' | 'scene_type_gt' | 'long_action_gt' | 'lat_action_gt' | 'odd_label' | 'fine_class' | 'location'> {
  return {
    chum_uri: s.chumUri,
    scene_type_gt: s.sceneGt,
    long_action_gt: s.longActionGt,
    lat_action_gt: s.latActionGt,
    odd_label: s.oddLabel,
    fine_class: s.fineClass,
    location: s.location,
  };
}

export interface PredictionParts {
  original: Stated & { text: string | null; status: string; waypoints: Array<[number, number]> | null };
  final: Stated & { text: string | null; status: FinalStatus; error: string | null; reason: string | null; waypoints: Array<[number, number]> | null };
  greedyScene: string | null;
  timing: { predictMs: number | null; verifyMs: number | null; queueWaitMs: number | null; ttftMs: number | null; decodeMs: number | null; promptTokens: number | null; completionTokens: number | null; retries: number | null; nTurns: number; nToolCalls: number };
}

/** A greedy prediction's waypoints are one array for the sample, written
 * by every condition that verifies it: encoded once. */
const waypointsJson = new WeakMap<ReadonlyArray<[number, number]>, string>();

function waypointsText(w: Array<[number, number]> | null): string | null {
  if (!w) return null;
  let s = waypointsJson.get(w);
  if (s === undefined) waypointsJson.set(w, (s = JSON.stringify(w)));
  return s;
}

export function predictionRow(experimentId: string, s: Sample, p: PredictionParts, imageSha: string | null): PredictionRow {
  const o = p.original;
  const f = p.final;
  // Flips are against the greedy baseline's scene (DESIGN.md). A failed
  // sample has no final answer: not right, not wrong, not revised, no flip.
  const failed = isFailedStatus(f.status);
  const fl = failed ? { savedFlag: null, brokenFlag: null } : flipFlags(s.sceneGt, p.greedyScene, f.scene);
  const t = p.timing;
  const total = t.predictMs === null && t.verifyMs === null ? null : (t.predictMs ?? 0) + (t.verifyMs ?? 0);
  return {
    experiment_id: experimentId,
    sample_id: s.sampleId,
    ...gtColumns(s),
    original_scene: o.scene,
    original_long_action: o.longAction,
    original_lat_action: o.latAction,
    original_generated_text: o.text,
    original_scene_correct: correctFlag(s.sceneGt, o.scene),
    final_scene: f.scene,
    final_long_action: f.longAction,
    final_lat_action: f.latAction,
    final_generated_text: f.text,
    final_scene_correct: failed ? null : correctFlag(s.sceneGt, f.scene),
    was_revised: failed ? null : isRevised(o, f) ? 1 : 0,
    scene_was_revised: failed ? null : isSceneRevised(o, f) ? 1 : 0,
    revision_reason: f.reason,
    original_flipped_correct: fl.savedFlag,
    original_flipped_incorrect: fl.brokenFlag,
    predict_time_ms: t.predictMs,
    verify_time_ms: t.verifyMs,
    total_time_ms: total,
    original_status: o.status,
    original_waypoints_json: waypointsText(o.waypoints),
    final_status: f.status,
    final_error: f.error,
    final_waypoints_json: f.waypoints ? JSON.stringify(f.waypoints) : null,
    n_turns: t.nTurns,
    n_tool_calls: t.nToolCalls,
    prompt_tokens: t.promptTokens,
    completion_tokens: t.completionTokens,
    queue_wait_ms: t.queueWaitMs,
    ttft_ms: t.ttftMs,
    decode_ms: t.decodeMs,
    retries: t.retries,
    image_sha256: imageSha,
  };
}

function greedyStated(g: GreedyPrediction | undefined): Stated {
  return { scene: g?.scene ?? null, longAction: g?.longAction ?? null, latAction: g?.latAction ?? null };
}

/** Condition 0: the greedy baseline, reused (no model call). */
export function baselineRecord(experimentId: string, s: Sample, g: GreedyPrediction | undefined, imageSha: string | null): SampleRecord {
  const st = greedyStated(g);
  const text = g?.generatedText ?? null;
  const status = g === undefined ? 'missing' : st.scene === null ? 'unparseable' : 'ok';
  const wp = g?.waypoints ?? null;
  return {
    prediction: predictionRow(experimentId, s, {
      original: { ...st, text, status, waypoints: wp },
      final: { ...st, text, status: 'ok', error: null, reason: null, waypoints: wp },
      greedyScene: st.scene,
      timing: { predictMs: null, verifyMs: null, queueWaitMs: null, ttftMs: null, decodeMs: null, promptTokens: null, completionTokens: null, retries: null, nTurns: 0, nToolCalls: 0 },
    }, imageSha),
    turns: [],
    toolCalls: [],
  };
}

const NOTHING: Stated = { scene: null, longAction: null, latAction: null };

/** Resolves the final prediction from how the loop ended; when the verifier
 * gave no usable answer the original stands and the status says why. A
 * failed request is no answer at all: nothing stands, the status says
 * failed (the sample is left out of the metrics and rerun on --resume). */
function resolveFinal(loop: LoopResult, fallback: Stated, fields: Array<keyof Stated>): { stated: Stated; status: FinalStatus; error: string | null; answer: FinalAnswer | null } {
  if (loop.status === 'server_error' || loop.status === 'timeout') return { stated: NOTHING, status: loop.status, error: loop.error, answer: null };
  if (loop.status === 'max_turns') return { stated: fallback, status: 'max_turns', error: null, answer: null };
  const a = loop.answer!;
  const out: Stated = { ...fallback };
  const valid = (k: keyof Stated, v: string | null): boolean => v !== null && (k === 'scene' ? isScene(v) : k === 'longAction' ? isLongAction(v) : isLatAction(v));
  for (const k of fields) if (valid(k, a[k])) out[k] = a[k];
  const status: FinalStatus = a.status === 'ok' ? 'ok' : a.status === 'missing' ? 'no_final_block' : a.status;
  return { stated: out, status, error: a.invalid.length ? a.invalid.map((x) => `${x.field}=${x.value}`).join('; ') : null, answer: a };
}

export interface SampleJob {
  ctx: LoopContext;
  condition: Condition;
  sample: Sample;
  greedy: GreedyPrediction | undefined;
  prompts: PromptSet;
  imageUrl: string;
  imageSha: string | null;
}

function timingOf(loops: LoopResult[], log: SampleLog, predictMs: number | null): PredictionParts['timing'] {
  const sum = (f: (l: LoopResult) => number) => loops.reduce((a, l) => a + f(l), 0);
  return {
    predictMs,
    verifyMs: sum((l) => l.sums.e2eMs),
    queueWaitMs: sum((l) => l.sums.queueWaitMs),
    ttftMs: loops[0]?.sums.firstTtftMs ?? null,
    decodeMs: sum((l) => l.sums.decodeMs),
    promptTokens: sum((l) => l.sums.promptTokens),
    completionTokens: sum((l) => l.sums.completionTokens),
    retries: sum((l) => l.sums.retries),
    nTurns: log.turns.length,
    nToolCalls: log.calls.length,
  };
}

/** Pipeline A: the verifier checks the greedy prediction with tools. */
export async function verifySample(job: SampleJob): Promise<SampleRecord> {
  const { ctx, condition, sample, greedy } = job;
  const original = greedyStated(greedy);
  // The waypoint tool needs the predicted waypoints to check (a deviation
  // from the plan's text; prompts.planVerbatim leaves it out).
  const extra = !job.prompts.planVerbatim && condition.tools.includes(CHECK_WAYPOINT_FEASIBILITY) ? waypointLine(greedy?.waypoints) : null;
  const messages: ChatMessage[] = [userWithImage(job.imageUrl, verificationPrompt(original, extra))];
  const log = newSampleLog();
  // Without tools (the no_tools control) the verifier has one turn: a tool
  // call it writes anyway ends the sample (max_turns, original kept).
  const loopCtx = condition.tools.length === 0 ? { ...ctx, maxTurns: 1 } : ctx;
  const loop = await runToolLoop(loopCtx, messages, 'verify', condition.tools, 'verify', original, { turnIndex: 0, callOrder: 0 }, log);
  const fin = resolveFinal(loop, original, ['scene', 'longAction', 'latAction']);
  const prediction = predictionRow(ctx.experimentId, sample, {
    original: { ...original, text: greedy?.generatedText ?? null, status: greedy === undefined ? 'missing' : original.scene === null ? 'unparseable' : 'ok', waypoints: greedy?.waypoints ?? null },
    final: { ...fin.stated, text: loop.last?.text ?? null, status: fin.status, error: fin.error, reason: fin.answer?.reason ?? null, waypoints: null },
    greedyScene: original.scene,
    timing: timingOf([loop], log, null),
  }, job.imageSha);
  return { prediction, turns: log.turns, toolCalls: log.calls };
}

/** Pipeline B: the base model predicts in three staged turns, one tool each. */
export async function stagedSample(job: SampleJob): Promise<SampleRecord> {
  const { ctx, sample, greedy } = job;
  const log = newSampleLog();
  const loops: LoopResult[] = [];
  const none: Stated = { scene: null, longAction: null, latAction: null };
  let current: Stated = none;
  const original: Stated = { ...none };
  let waypoints: Array<[number, number]> | null = null;
  let status: FinalStatus = 'ok';
  let error: string | null = null;
  let pos = { turnIndex: 0, callOrder: 0 };
  const messages: ChatMessage[] = [];
  for (const st of job.condition.stages) {
    const prompt = st.name === STAGE_SCENE ? STAGED_SCENE_PROMPT : st.name === STAGE_ACTION ? stagedActionPrompt(isScene(current.scene) ? current.scene : null) : stagedWaypointPrompt(isScene(current.scene) ? current.scene : null, current.longAction);
    messages.push(st.name === STAGE_SCENE ? userWithImage(job.imageUrl, prompt) : { role: 'user', content: prompt });
    const loop = await runToolLoop(ctx, messages, st.name, st.tools, st.name, current, pos, log);
    loops.push(loop);
    pos = { turnIndex: loop.nextTurnIndex, callOrder: loop.nextCallOrder };
    // "Original" of a staged sample = what the base model said in the
    // stage's first turn, before any tool response.
    if (st.name === STAGE_SCENE) original.scene = loop.firstStated?.scene ?? loop.firstCallScene;
    if (st.name === STAGE_ACTION) {
      original.longAction = loop.firstStated?.longAction ?? null;
      original.latAction = loop.firstStated?.latAction ?? null;
    }
    const fin = resolveFinal(loop, current, [...st.fields]);
    current = fin.stated;
    if (st.name === STAGE_WAYPOINTS) waypoints = fin.answer?.waypoints ?? null;
    // A failed request outranks an earlier stage's model status: the
    // sample failed, the model is not blamed.
    if (fin.status !== 'ok' && (status === 'ok' || isFailedStatus(fin.status))) {
      status = fin.status;
      error = isFailedStatus(fin.status) ? `${st.name}: ${fin.error ?? fin.status}` : fin.error ?? `${st.name}: ${fin.status}`;
    }
    if (loop.status === 'server_error' || loop.status === 'timeout') break;
  }
  const prediction = predictionRow(ctx.experimentId, sample, {
    original: { ...original, text: log.turns[0]?.response_text ?? null, status: original.scene === null ? 'unparseable' : 'ok', waypoints: null },
    final: { ...current, text: loops[loops.length - 1]?.last?.text ?? null, status, error, reason: null, waypoints },
    greedyScene: greedy?.scene ?? null,
    timing: timingOf(loops, log, null),
  }, job.imageSha);
  return { prediction, turns: log.turns, toolCalls: log.calls };
}

/** The predictor's tool list: one array, because the turn parameters and
 * request tails are cached per tool list (tool-loop.ts, request-body.ts). */
const NO_TOOLS: readonly string[] = [];

/** Condition 0 run live: the predictor model on the image (no tools). */
export async function predictSample(job: SampleJob): Promise<SampleRecord> {
  const { ctx, sample } = job;
  const log = newSampleLog();
  const none: Stated = { scene: null, longAction: null, latAction: null };
  const ran = await runToolLoop(ctx, [userWithImage(job.imageUrl, job.prompts.predict)], 'predict', NO_TOOLS, 'predict', none, { turnIndex: 0, callOrder: 0 }, log);
  // The checkpoint's own answer format (prompts.predictor), not the stream
  // engine's built-in predict labels.
  const loop: LoopResult = ran.status === 'answered' ? { ...ran, answer: parsePredictorAnswer(ran.last?.text ?? '', job.prompts.predictorAnswer) } : ran;
  const fin = resolveFinal(loop, none, ['scene', 'longAction', 'latAction']);
  const st = fin.stated;
  const text = loop.last?.text ?? null;
  const wp = fin.answer?.waypoints ?? null;
  const predictMs = loop.sums.e2eMs;
  const prediction = predictionRow(ctx.experimentId, sample, {
    original: { ...st, text, status: fin.status === 'ok' ? 'ok' : fin.status, waypoints: wp },
    final: { ...st, text, status: fin.status, error: fin.error, reason: null, waypoints: wp },
    greedyScene: st.scene,
    timing: { ...timingOf([loop], log, predictMs), verifyMs: null },
  }, job.imageSha);
  return { prediction, turns: log.turns, toolCalls: log.calls };
}
