// Point estimates for one experiment (condition x verifier size).
import { SCENES } from '../domain/enums';
import { N_CELLS, N_CLASSES, OTHER, cellCode, scoresFromCells, sceneIndex } from '../protocol/scores';
import { isCorrect, isRevised, isSceneRevised, type Stated } from '../protocol/definitions';
import { conditionLabel, conditionSpec } from '../protocol/conditions';
import { CHECK_CONFUSION_RISK, CHECK_SCENE_ACTION_COMPATIBILITY, CHECK_SCENE_PRIOR, CHECK_WAYPOINT_FEASIBILITY } from '../protocol/tools';
import { classScores, distribution } from './metrics';
import { mcnemarExact } from './stats';
import { newcombeDiff, wilson } from './stats';
import { isWarning, verdictOf, type ExperimentData, type ExperimentInfo, type PredictionRow } from './load';
import type { ConditionResult, ConditionRole, FineClassRow, Informativeness, Latency, SceneFlips, ToolMetrics, Validity } from './types';

/** The four statistical tools, in the plan's order, with the prefix of
 * their condition_metrics columns. */
export const PLAN_TOOLS = [
  { name: CHECK_SCENE_PRIOR, column: 'tool_prior' },
  { name: CHECK_CONFUSION_RISK, column: 'tool_confusion' },
  { name: CHECK_SCENE_ACTION_COMPATIBILITY, column: 'tool_scene_action' },
  { name: CHECK_WAYPOINT_FEASIBILITY, column: 'tool_waypoint' },
] as const;

// For action accuracy against the ground truth, SQL NULL and the string
// 'null' both mean "no action".
const action = (v: string | null): string => v ?? 'null';

type RevisionColumns = Pick<PredictionRow, 'original_scene' | 'final_scene' | 'original_long_action' | 'final_long_action' | 'original_lat_action' | 'final_lat_action'>;
const originalOf = (p: RevisionColumns): Stated => ({ scene: p.original_scene, longAction: p.original_long_action, latAction: p.original_lat_action });
const finalOf = (p: RevisionColumns): Stated => ({ scene: p.final_scene, longAction: p.final_long_action, latAction: p.final_lat_action });

/** protocol/definitions' "correct", on a prediction row. */
export function rowCorrect(p: { scene_type_gt: string | null }, scene: string | null): boolean {
  return isCorrect(p.scene_type_gt, scene);
}

/** protocol/definitions' "revised", on a prediction row (the stored was_revised). */
export function rowRevised(p: RevisionColumns): boolean {
  return isRevised(originalOf(p), finalOf(p));
}

export function rowSceneRevised(p: RevisionColumns): boolean {
  return isSceneRevised(originalOf(p), finalOf(p));
}

const rate = (a: number, b: number): number => (b === 0 ? NaN : a / b);

/** What a result is (see ConditionRole), from the condition table; a
 * first answer is derived; a name the table does not know counts as a
 * tool condition. */
export function roleOf(info: Pick<ExperimentInfo, 'condition_name'>, derivedFrom: string | null): ConditionRole {
  if (derivedFrom !== null) return 'first_answer';
  const spec = conditionSpec(info.condition_name);
  if (!spec) return 'tool';
  return !spec.verifier ? 'baseline' : spec.oracle ? 'oracle' : spec.control ? 'control' : 'tool';
}

export function toolsOf(info: Pick<ExperimentInfo, 'tools_enabled'>): string[] {
  try {
    const v = JSON.parse(info.tools_enabled ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

interface Tally {
  cells: Float64Array;
  nRevised: number; nSceneRevised: number; revisedRight: number; saves: number; breaks: number;
  longOk: number; latOk: number; jointOk: number; nUnlabelled: number; nUnparseable: number;
  fine: Map<string, FineClassRow>;
  scenes: Map<string, SceneFlips>;
  finalStatus: Record<string, number>;
  sceneRevised: Map<number, boolean>;
  originalWrong: Map<number, boolean>;
}

function flipRow<T extends { n: number; correct: number; saves: number; breaks: number }>(m: Map<string, T>, key: string, make: () => T, right: boolean, ref: boolean): T {
  let row = m.get(key);
  if (!row) m.set(key, (row = make()));
  row.n++;
  if (right) row.correct++;
  if (!ref && right) row.saves++;
  if (ref && !right) row.breaks++;
  return row;
}

function tally(ps: PredictionRow[], baselineCorrect: Map<number, boolean> | null): Tally {
  const t: Tally = { cells: new Float64Array(N_CELLS), nRevised: 0, nSceneRevised: 0, revisedRight: 0, saves: 0, breaks: 0, longOk: 0, latOk: 0, jointOk: 0, nUnlabelled: 0, nUnparseable: 0,
    fine: new Map(), scenes: new Map(), finalStatus: {}, sceneRevised: new Map(), originalWrong: new Map() };
  for (const p of ps) {
    t.cells[cellCode(p.scene_type_gt, p.final_scene)]!++;
    if (sceneIndex(p.scene_type_gt) === OTHER) t.nUnlabelled++;
    if (sceneIndex(p.final_scene) === OTHER) t.nUnparseable++;
    const right = rowCorrect(p, p.final_scene);
    const ref = baselineCorrect?.get(p.sample_id) ?? rowCorrect(p, p.original_scene);
    if (!ref && right) t.saves++;
    if (ref && !right) t.breaks++;
    if (rowRevised(p)) t.nRevised++;
    const sRev = rowSceneRevised(p);
    t.sceneRevised.set(p.sample_id, sRev);
    t.originalWrong.set(p.sample_id, !rowCorrect(p, p.original_scene));
    if (sRev) { t.nSceneRevised++; if (right) t.revisedRight++; }
    const lo = action(p.final_long_action) === action(p.long_action_gt);
    const la = action(p.final_lat_action) === action(p.lat_action_gt);
    if (lo) t.longOk++;
    if (la) t.latOk++;
    if (lo && la) t.jointOk++;
    const st = p.final_status ?? 'unknown';
    t.finalStatus[st] = (t.finalStatus[st] ?? 0) + 1;
    const fc = p.fine_class ?? p.scene_type_gt ?? 'unlabelled';
    const row = flipRow(t.fine, fc, () => ({ fineClass: fc, n: 0, correct: 0, accuracy: 0, baselineCorrect: 0, saves: 0, breaks: 0 }), right, ref);
    if (ref) row.baselineCorrect++;
    const scene = p.scene_type_gt ?? 'unlabelled';
    flipRow(t.scenes, scene, () => ({ scene, n: 0, correct: 0, saves: 0, breaks: 0 }), right, ref);
  }
  for (const r of t.fine.values()) r.accuracy = rate(r.correct, r.n);
  return t;
}

/** What names a condition's result (and each of its per-sample records),
 * known from its experiment row alone: the report's JSONL worker starts
 * from these before the analysis has read any rows (analyze.ts plannedArms). */
export const ARM_IDENTITY_KEYS = ['experimentId', 'conditionName', 'verifierSize', 'label', 'synthetic', 'derivedFrom'] as const;
export type ArmIdentity = Pick<ConditionResult, (typeof ARM_IDENTITY_KEYS)[number]>;

export function armIdentity(info: ExperimentInfo, derivedFrom: string | null): ArmIdentity {
  return {
    experimentId: derivedFrom === null ? info.experiment_id : `${info.experiment_id}:first_answer`,
    conditionName: info.condition_name,
    verifierSize: info.verifier_size,
    label: conditionLabel(info.condition_name, info.verifier_size),
    synthetic: info.synthetic === 1,
    derivedFrom,
  };
}

/** baselineCorrect: sample_id -> the greedy baseline's scene was right. When
 * absent the condition's own original prediction is the reference (Pipeline
 * A's original is the greedy prediction). derivedFrom: the experiment a
 * derived result (a staged first answer) is read from. */
export function computeCondition(d: ExperimentData, baselineCorrect: Map<number, boolean> | null, derivedFrom: string | null = null): ConditionResult {
  const { info, predictions: ps } = d;
  const t = tally(ps, baselineCorrect);
  const s = scoresFromCells(t.cells);
  const n = ps.length;
  const confusion: number[][] = [];
  for (let g = 0; g <= N_CLASSES; g++) confusion.push(Array.from(t.cells.subarray(g * (N_CLASSES + 1), (g + 1) * (N_CLASSES + 1))));
  const { tools, validity, warned } = toolMetrics(d, t.sceneRevised, t.originalWrong);
  let warnedOriginalWrong = 0, warnedRevised = 0, originalWrong = 0, originalWrongWarned = 0;
  for (const sid of warned) {
    if (t.originalWrong.get(sid)) warnedOriginalWrong++;
    if (t.sceneRevised.get(sid)) warnedRevised++;
  }
  for (const [sid, wrong] of t.originalWrong) if (wrong) { originalWrong++; if (warned.has(sid)) originalWrongWarned++; }
  const sceneOrder = [...SCENES, 'unlabelled'];
  return {
    ...armIdentity(info, derivedFrom),
    pipeline: info.pipeline,
    role: roleOf(info, derivedFrom),
    toolsOffered: derivedFrom === null ? toolsOf(info) : [],
    backend: info.backend,
    n, nLabelled: n - t.nUnlabelled, nUnlabelled: t.nUnlabelled, nUnparseable: t.nUnparseable,
    nFailed: d.failed.length, nPlanned: info.total_samples ?? null, runStatus: info.status ?? null,
    correct: s.correct,
    accuracy: s.accuracy,
    accuracyLabelled: rate(s.correct, n - t.nUnlabelled),
    macroF1: s.macroF1,
    perClass: classScores(t.cells).map((c, i) => ({ scene: SCENES[i]!, ...c })),
    confusion,
    fineClass: [...t.fine.values()].sort((a, b) => a.fineClass.localeCompare(b.fineClass)),
    perScene: [...t.scenes.values()].sort((a, b) => sceneOrder.indexOf(a.scene) - sceneOrder.indexOf(b.scene)),
    nRevised: t.nRevised, revisionRate: rate(t.nRevised, n),
    nSceneRevised: t.nSceneRevised, revisionAccuracy: rate(t.revisedRight, t.nSceneRevised),
    saves: t.saves, breaks: t.breaks, net: t.saves - t.breaks, mcnemarP: mcnemarExact(t.saves, t.breaks),
    flipReference: baselineCorrect ? 'baseline_experiment' : 'original_prediction',
    tools,
    warnedSamples: warned.size, warnedOriginalWrong, warnedRevised, originalWrong, originalWrongWarned,
    actions: { longAccuracy: rate(t.longOk, n), latAccuracy: rate(t.latOk, n), jointAccuracy: rate(t.jointOk, n) },
    validity,
    finalStatus: sortKeys(withFailed(t.finalStatus, d.failed)),
    latency: latencyOf(d),
    stats: null,
  };
}

function latencyOf(d: ExperimentData): Latency {
  const t = d.turns, ps = d.predictions, info = d.info;
  const throughput = info.throughput_samples_per_s ?? (info.total_wall_time_s ? ps.length / info.total_wall_time_s : null);
  return {
    ttftMs: distribution(t.map((x) => x.ttft_ms)),
    decodeMs: distribution(t.map((x) => x.decode_ms)),
    turnMs: distribution(t.map((x) => x.e2e_ms)),
    queueWaitMs: distribution(t.map((x) => x.queue_wait_ms)),
    promptTokens: distribution(t.map((x) => x.prompt_tokens)),
    completionTokens: distribution(t.map((x) => x.completion_tokens)),
    sampleMs: distribution(ps.map((x) => x.total_time_ms)),
    predictMs: distribution(ps.map((x) => x.predict_time_ms)),
    verifyMs: distribution(ps.map((x) => x.verify_time_ms)),
    turns: t.length,
    throughputSamplesPerS: throughput,
  };
}

/** The status counts include the failed samples (kept out of every other number). */
function withFailed(counts: Record<string, number>, failed: ExperimentData['failed']): Record<string, number> {
  const out = { ...counts };
  for (const f of failed) { const st = f.final_status ?? 'unknown'; out[st] = (out[st] ?? 0) + 1; }
  return out;
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

interface ToolAgg { calls: number; samples: Set<number>; answered: Set<number>; revisedAfterSum: number; revisedAfterN: number; warnings: number; warnedSamples: Set<number> }
const newAgg = (): ToolAgg => ({ calls: 0, samples: new Set(), answered: new Set(), revisedAfterSum: 0, revisedAfterN: 0, warnings: 0, warnedSamples: new Set() });

/** Over the samples where the tool answered with a verdict: how often the
 * original was wrong when it warned, and when it did not. */
export function informativeness(answered: Iterable<number>, warnedSamples: ReadonlySet<number>, originalWrong: ReadonlyMap<number, boolean>): Informativeness {
  let warned = 0, warnedWrong = 0, notWarned = 0, notWarnedWrong = 0;
  for (const sid of answered) {
    const wrong = originalWrong.get(sid) === true;
    if (warnedSamples.has(sid)) { warned++; if (wrong) warnedWrong++; } else { notWarned++; if (wrong) notWarnedWrong++; }
  }
  const diffCi = newcombeDiff(warnedWrong, warned, notWarnedWrong, notWarned);
  return {
    warned, warnedWrong, pWrongWarned: rate(warnedWrong, warned), pWrongWarnedCi: wilson(warnedWrong, warned),
    notWarned, notWarnedWrong, pWrongNotWarned: rate(notWarnedWrong, notWarned), pWrongNotWarnedCi: wilson(notWarnedWrong, notWarned),
    diffCi, informative: warned === 0 || notWarned === 0 ? null : diffCi.lo > 0,
  };
}

function toolMetrics(d: ExperimentData, sceneRevised: Map<number, boolean>, originalWrong: Map<number, boolean>): { tools: ToolMetrics[]; validity: Validity; warned: Set<number> } {
  const byTool = new Map<string, ToolAgg>();
  for (const t of PLAN_TOOLS) byTool.set(t.name, newAgg());
  const v: Validity = { calls: 0, parsed: 0, knownTool: 0, requiredArgsPresent: 0, schemaValid: 0, executedOk: 0, valid: 0, callStatus: {} };
  const warned = new Set<number>();
  for (const c of d.toolCalls) {
    v.calls++;
    v.parsed += c.parsed ? 1 : 0;
    v.knownTool += c.known_tool ? 1 : 0;
    v.requiredArgsPresent += c.required_args_present ? 1 : 0;
    v.schemaValid += c.schema_valid ? 1 : 0;
    v.executedOk += c.executed_ok ? 1 : 0;
    if (c.parsed && c.known_tool && c.required_args_present && c.schema_valid && c.executed_ok) v.valid++;
    const st = c.call_status ?? 'unknown';
    v.callStatus[st] = (v.callStatus[st] ?? 0) + 1;
    let agg = byTool.get(c.tool_name);
    if (!agg) byTool.set(c.tool_name, (agg = newAgg()));
    agg.calls++;
    agg.samples.add(c.sample_id);
    // One JSON.parse per call (133,482 of them on a default run).
    const verdict = verdictOf(c.tool_result_json);
    if (verdict !== null) agg.answered.add(c.sample_id);
    if (c.model_revised_after !== null) { agg.revisedAfterSum += c.model_revised_after; agg.revisedAfterN++; }
    if (isWarning(verdict)) { agg.warnings++; agg.warnedSamples.add(c.sample_id); warned.add(c.sample_id); }
  }
  v.callStatus = sortKeys(v.callStatus);
  const tools: ToolMetrics[] = [...byTool.entries()].map(([tool, a]) => {
    let revised = 0;
    for (const sid of a.samples) if (sceneRevised.get(sid)) revised++;
    let ignored = 0;
    for (const sid of a.warnedSamples) if (!sceneRevised.get(sid)) ignored++;
    return { tool, calls: a.calls, samplesCalled: a.samples.size, pReviseGivenTool: rate(revised, a.samples.size), meanRevisedAfter: rate(a.revisedAfterSum, a.revisedAfterN), warnings: a.warnings, warningsIgnored: ignored,
      informativeness: informativeness(a.answered, a.warnedSamples, originalWrong) };
  });
  return { tools, validity: v, warned };
}
