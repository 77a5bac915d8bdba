// Point estimates for one experiment (condition x verifier size).
import { SCENES } from '../domain/enums';
import { N_CELLS, N_CLASSES, OTHER, cellCode, classScores, distribution, scoresFromCells, sceneIndex } from './metrics';
import { mcnemarExact } from './stats';
import { isWarning, verdictOf, type ExperimentData, type PredictionRow } from './load';
import type { ConditionResult, FineClassRow, ToolMetrics, Validity } from './types';

/** The four statistical tools, in the plan's order, with the prefix of
 * their condition_metrics columns. */
export const PLAN_TOOLS = [
  { name: 'check_scene_prior', column: 'tool_prior' },
  { name: 'check_confusion_risk', column: 'tool_confusion' },
  { name: 'check_scene_action_compatibility', column: 'tool_scene_action' },
  { name: 'check_waypoint_feasibility', column: 'tool_waypoint' },
] as const;

// SQL NULL and the string 'null' both mean "no action" in the action fields.
const action = (v: string | null): string => v ?? 'null';

export function isCorrect(p: { scene_type_gt: string | null }, scene: string | null): boolean {
  return p.scene_type_gt !== null && scene === p.scene_type_gt && sceneIndex(scene) !== OTHER;
}

export function isRevised(p: Pick<PredictionRow, 'original_scene' | 'final_scene' | 'original_long_action' | 'final_long_action' | 'original_lat_action' | 'final_lat_action'>): boolean {
  return p.original_scene !== p.final_scene || action(p.original_long_action) !== action(p.final_long_action) || action(p.original_lat_action) !== action(p.final_lat_action);
}

const rate = (a: number, b: number): number => (b === 0 ? NaN : a / b);

export function labelOf(conditionName: string, size: string | null): string {
  return size ? `${conditionName}_${size}` : conditionName;
}

/** baselineCorrect: sample_id -> the greedy baseline's scene was right. When
 * absent the condition's own original prediction is the reference (Pipeline
 * A's original is the greedy prediction). */
export function computeCondition(d: ExperimentData, baselineCorrect: Map<number, boolean> | null): ConditionResult {
  const { info, predictions: ps } = d;
  const cells = new Float64Array(N_CELLS);
  let nRevised = 0, nSceneRevised = 0, revisedRight = 0, saves = 0, breaks = 0;
  let longOk = 0, latOk = 0, jointOk = 0, nUnlabelled = 0, nUnparseable = 0;
  const fine = new Map<string, FineClassRow>();
  const finalStatus: Record<string, number> = {};
  const sceneRevised = new Map<number, boolean>();
  const originalWrongBySample = new Map<number, boolean>();
  for (const p of ps) {
    cells[cellCode(p.scene_type_gt, p.final_scene)]!++;
    if (sceneIndex(p.scene_type_gt) === OTHER) nUnlabelled++;
    if (sceneIndex(p.final_scene) === OTHER) nUnparseable++;
    const right = isCorrect(p, p.final_scene);
    const ref = baselineCorrect?.get(p.sample_id) ?? isCorrect(p, p.original_scene);
    if (!ref && right) saves++;
    if (ref && !right) breaks++;
    if (isRevised(p)) nRevised++;
    const sRev = p.original_scene !== p.final_scene;
    sceneRevised.set(p.sample_id, sRev);
    originalWrongBySample.set(p.sample_id, !isCorrect(p, p.original_scene));
    if (sRev) { nSceneRevised++; if (right) revisedRight++; }
    const lo = action(p.final_long_action) === action(p.long_action_gt);
    const la = action(p.final_lat_action) === action(p.lat_action_gt);
    if (lo) longOk++;
    if (la) latOk++;
    if (lo && la) jointOk++;
    const st = p.final_status ?? 'unknown';
    finalStatus[st] = (finalStatus[st] ?? 0) + 1;
    const fc = p.fine_class ?? p.scene_type_gt ?? 'unlabelled';
    let row = fine.get(fc);
    if (!row) fine.set(fc, (row = { fineClass: fc, n: 0, correct: 0, accuracy: 0, baselineCorrect: 0, saves: 0, breaks: 0 }));
    row.n++;
    if (right) row.correct++;
    if (ref) row.baselineCorrect++;
    if (!ref && right) row.saves++;
    if (ref && !right) row.breaks++;
  }
  for (const r of fine.values()) r.accuracy = rate(r.correct, r.n);
  const s = scoresFromCells(cells);
  const n = ps.length;
  const confusion: number[][] = [];
  for (let g = 0; g <= N_CLASSES; g++) confusion.push(Array.from(cells.subarray(g * (N_CLASSES + 1), (g + 1) * (N_CLASSES + 1))));

  const { tools, validity, warned } = toolMetrics(d, sceneRevised);
  let warnedOriginalWrong = 0, warnedRevised = 0, originalWrong = 0, originalWrongWarned = 0;
  for (const sid of warned) {
    if (originalWrongBySample.get(sid)) warnedOriginalWrong++;
    if (sceneRevised.get(sid)) warnedRevised++;
  }
  for (const [sid, wrong] of originalWrongBySample) if (wrong) { originalWrong++; if (warned.has(sid)) originalWrongWarned++; }

  const t = d.turns;
  const throughput = info.throughput_samples_per_s ?? (info.total_wall_time_s ? n / info.total_wall_time_s : null);
  return {
    experimentId: info.experiment_id,
    conditionName: info.condition_name,
    verifierSize: info.verifier_size,
    pipeline: info.pipeline,
    label: labelOf(info.condition_name, info.verifier_size),
    synthetic: info.synthetic === 1,
    backend: info.backend,
    n, nLabelled: n - nUnlabelled, nUnlabelled, nUnparseable,
    correct: s.correct,
    accuracy: s.accuracy,
    accuracyLabelled: rate(s.correct, n - nUnlabelled),
    macroF1: s.macroF1,
    perClass: classScores(cells).map((c, i) => ({ scene: SCENES[i]!, ...c })),
    confusion,
    fineClass: [...fine.values()].sort((a, b) => a.fineClass.localeCompare(b.fineClass)),
    nRevised, revisionRate: rate(nRevised, n),
    nSceneRevised, revisionAccuracy: rate(revisedRight, nSceneRevised),
    saves, breaks, net: saves - breaks, mcnemarP: mcnemarExact(saves, breaks),
    flipReference: baselineCorrect ? 'baseline_experiment' : 'original_prediction',
    tools,
    warnedSamples: warned.size, warnedOriginalWrong, warnedRevised, originalWrong, originalWrongWarned,
    actions: { longAccuracy: rate(longOk, n), latAccuracy: rate(latOk, n), jointAccuracy: rate(jointOk, n) },
    validity,
    finalStatus: sortKeys(finalStatus),
    latency: {
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
    },
    stats: null,
  };
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

function toolMetrics(d: ExperimentData, sceneRevised: Map<number, boolean>): { tools: ToolMetrics[]; validity: Validity; warned: Set<number> } {
  const byTool = new Map<string, { calls: number; samples: Set<number>; revisedAfterSum: number; revisedAfterN: number; warnings: number; warnedSamples: Set<number> }>();
  for (const t of PLAN_TOOLS) byTool.set(t.name, { calls: 0, samples: new Set(), revisedAfterSum: 0, revisedAfterN: 0, warnings: 0, warnedSamples: new Set() });
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
    if (!agg) byTool.set(c.tool_name, (agg = { calls: 0, samples: new Set(), revisedAfterSum: 0, revisedAfterN: 0, warnings: 0, warnedSamples: new Set() }));
    agg.calls++;
    agg.samples.add(c.sample_id);
    if (c.model_revised_after !== null) { agg.revisedAfterSum += c.model_revised_after; agg.revisedAfterN++; }
    if (isWarning(verdictOf(c.tool_result_json))) { agg.warnings++; agg.warnedSamples.add(c.sample_id); warned.add(c.sample_id); }
  }
  v.callStatus = sortKeys(v.callStatus);
  const tools: ToolMetrics[] = [...byTool.entries()].map(([tool, a]) => {
    let revised = 0;
    for (const sid of a.samples) if (sceneRevised.get(sid)) revised++;
    let ignored = 0;
    for (const sid of a.warnedSamples) if (!sceneRevised.get(sid)) ignored++;
    return { tool, calls: a.calls, samplesCalled: a.samples.size, pReviseGivenTool: rate(revised, a.samples.size), meanRevisedAfter: rate(a.revisedAfterSum, a.revisedAfterN), warnings: a.warnings, warningsIgnored: ignored };
  });
  return { tools, validity: v, warned };
}
