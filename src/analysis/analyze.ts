// The analysis entry points: from the experiment database, or from Arrow run
// folders bulk-loaded into an in-memory database (same code after loading,
// so both give identical numbers).
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db';
import { loadRuns } from '../store/bulk-load';
import { EXPERIMENT_FILE } from '../store/run-dir';
import { openDb } from '../store/db';
import { TceError } from '../util/errors';
import { isScene } from '../domain/enums';
import { loadToolStats, type ToolStats } from '../tools/stats';
import { cellCode } from '../protocol/scores';
import { conditionSpec, firstAnswerName } from '../protocol/conditions';
import { armIdentity, computeCondition, rowCorrect, roleOf, type ArmIdentity } from './condition';
import { decide } from './decision';
import { MAX_FAILED_SHARE, conditionIssue } from './readiness';
import { loadExperiment, selectExperiments, suiteKey, type ExperimentData, type ExperimentInfo } from './load';
import { checkOneSuite, checkSamplesPresent } from './suite-check';
import { runPaired, type Arm, type Job, type JobResult, type PairedOptions } from './paired';
import { judgeClaims, pairsOf, planClaims, type Claim } from './claims';
import { RULES, rulePredictions } from './rule-baselines';
import type { AnalysisResult, ConditionResult, ConditionStats, RuleBaseline, SizeComparison } from './types';

export { writeConditionMetrics } from './write-tables';

export interface AnalyzeOptions {
  /** Resamples for the 95% intervals (default 10,000; 0 = none). */
  bootstrap?: number;
  seed?: number;
  /** Bootstrap worker threads (default: CPU count, max 8; 1 = inline). */
  workers?: number;
  experimentIds?: string[];
  /** Oracle macro-F1 needed to proceed (config gate.threshold). */
  gateThreshold?: number;
  /** The tool statistics the run used: needed for the rule comparators. */
  toolStats?: ToolStats | null;
  /** Analyse a suite some of whose samples are absent (shards not loaded). */
  allowPartial?: boolean;
  /** run.maxFailedShare: above it a condition counts as failed (no decision). */
  maxFailedShare?: number;
}

export async function analyzeDb(db: DB, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const infos = selectExperiments(db, opts.experimentIds);
  if (infos.length === 0) throw new TceError('NO_EXPERIMENTS', `${db.name}: experiments: no experiments to analyse`, 'run `tce start` (or `tce run`) first, or pass --from-arrow DIR');
  checkOneSuite(db.name, infos);
  const running = infos.filter((i) => i.status === 'running');
  if (running.length && !opts.allowPartial) {
    throw new TceError('RUNNING', `${db.name}: experiments still running: ${running.map((i) => i.experiment_id).join(', ')}`, 'wait for the run to finish, resume it (`tce run --resume`), or pass --partial to analyse what is there (labelled partial, no decision)');
  }
  const loaded = infos.map((i) => loadExperiment(db, i, { waypoints: roleOf(i, null) === 'baseline' }));
  if (!opts.allowPartial) checkSamplesPresent(loaded);
  const base = loaded.find((d) => roleOf(d.info, null) === 'baseline') ?? null;
  const baselineCorrect = base ? new Map(base.predictions.map((p) => [p.sample_id, rowCorrect(p, p.final_scene)])) : null;
  // A staged run's first answer (before any tool response) is its own
  // result, read from the same rows: no extra model calls (protocol:
  // conditions with firstAnswer).
  const arms: Array<{ data: ExperimentData; result: ConditionResult }> = [];
  for (const d of loaded) {
    arms.push({ data: d, result: computeCondition(d, baselineCorrect) });
    if (conditionSpec(d.info.condition_name)?.firstAnswer) {
      const fa = firstAnswerData(d);
      arms.push({ data: fa, result: computeCondition(fa, baselineCorrect, d.info.experiment_id) });
    }
  }
  const conditions = arms.map((a) => a.result);
  // A failed or incomplete condition withholds the claims that need it (and the outcome), not the others.
  for (const c of conditions) c.problem = conditionIssue(c, opts.maxFailedShare ?? MAX_FAILED_SHARE);
  const ruled = ruleArms(base, baselineCorrect, opts.toolStats ?? null);
  const resamples = opts.bootstrap ?? 10_000;
  const seed = opts.seed ?? 42;
  const baseResult = base ? conditions.find((c) => c.role === 'baseline') ?? null : null;
  const paired = await pairAll([...arms.map((a) => ({ label: a.result.label, data: a.data })), ...ruled.arms.map((r) => ({ label: r.rule.rule, data: r.data }))],
    conditions, ruled.arms.map((r) => r.rule), baseResult, { resamples, seed, workers: opts.workers }, problemsOf(conditions));
  const synthetic = conditions.some((c) => c.synthetic);
  return {
    synthetic,
    backends: [...new Set(conditions.map((c) => c.backend ?? 'unknown'))].sort(),
    baselineId: base?.info.experiment_id ?? null,
    bootstrap: { resamples: resamples > 0 ? resamples : 0, seed },
    conditions,
    rules: ruled.arms.map((r) => r.rule),
    rulesMissing: ruled.missing,
    sizeComparison: paired.sizes,
    decision: decide(conditions, paired.claims, opts.gateThreshold ?? 0.7, synthetic, opts.maxFailedShare),
    partial: infos.some((i) => i.status === 'running'),
    toolStatsModes: [...new Set(infos.map((i) => i.tool_stats_mode).filter((m): m is string => m !== null))].sort(),
    suite: suiteKey(infos[0]!) || null,
  };
}

/** The arms analyzeDb will report, in its order, and the baseline's id,
 * from the experiment rows alone (no prediction read): what the report's
 * JSONL worker needs to start while the analysis reads. null where the
 * analysis would refuse (no experiments, mixed suites, running ones):
 * then nothing starts early. writeReports checks these against the
 * analysis's own conditions before using what was written from them. */
export function plannedArms(db: DB, experimentIds?: string[]): { arms: ArmIdentity[]; baselineId: string | null } | null {
  let infos: ExperimentInfo[];
  try {
    infos = selectExperiments(db, experimentIds);
    checkOneSuite(db.name, infos);
  } catch {
    return null;
  }
  if (infos.length === 0 || infos.some((i) => i.status === 'running')) return null;
  const arms = infos.flatMap((i) => (conditionSpec(i.condition_name)?.firstAnswer ? [armIdentity(i, null), armIdentity(firstAnswerInfo(i), i.experiment_id)] : [armIdentity(i, null)]));
  return { arms, baselineId: infos.find((i) => roleOf(i, null) === 'baseline')?.experiment_id ?? null };
}

function firstAnswerInfo(info: ExperimentInfo): ExperimentInfo {
  return { ...info, condition_name: firstAnswerName(info.condition_name), tools_enabled: '[]', total_wall_time_s: null, throughput_samples_per_s: null };
}

/** The staged run's rows with the first answer as the final one. */
function firstAnswerData(d: ExperimentData): ExperimentData {
  return {
    info: firstAnswerInfo(d.info),
    predictions: d.predictions.map((p) => ({
      ...p, final_scene: p.original_scene, final_long_action: p.original_long_action, final_lat_action: p.original_lat_action,
      final_status: isScene(p.original_scene) ? 'ok' : 'unparseable', predict_time_ms: null, verify_time_ms: null, total_time_ms: null,
    })),
    failed: d.failed,
    toolCalls: [],
    turns: [],
  };
}

/** Rule comparators from the baseline's greedy rows, when the tool
 * statistics the run used are at hand. */
function ruleArms(base: ExperimentData | null, baselineCorrect: Map<number, boolean> | null, stats: ToolStats | null): { arms: Array<{ rule: RuleBaseline; data: ExperimentData }>; missing: string | null } {
  if (!base) return { arms: [], missing: 'no baseline experiment to apply the rules to' };
  if (!stats) return { arms: [], missing: 'the tool statistics file was not given or not found' };
  const runSha = base.info.tool_stats_sha256;
  if (runSha && stats.source?.sha256 && runSha !== stats.source.sha256) return { arms: [], missing: `the tool statistics at hand were built from other data (sha256 ${stats.source.sha256.slice(0, 12)}) than the run's (${runSha.slice(0, 12)})` };
  if (base.info.tool_stats_mode && base.info.tool_stats_mode !== stats.mode) return { arms: [], missing: `the tool statistics at hand are ${stats.mode}, the run used ${base.info.tool_stats_mode}` };
  const scenes = rulePredictions(base.predictions, stats);
  const arms = RULES.map((spec) => {
    const byId = scenes.get(spec.rule)!;
    const data: ExperimentData = {
      info: { ...base.info, experiment_id: spec.rule, condition_name: spec.rule, pipeline: 'rule', verifier_size: null, backend: 'rule (no model)', tools_enabled: JSON.stringify(spec.tools), total_wall_time_s: null, throughput_samples_per_s: null },
      predictions: base.predictions.map((p) => ({ ...p, final_scene: byId.get(p.sample_id) ?? p.original_scene })),
      failed: base.failed, toolCalls: [], turns: [],
    };
    const c = computeCondition(data, baselineCorrect);
    const rule: RuleBaseline = {
      rule: spec.rule, tools: spec.tools, n: c.n, correct: c.correct, accuracy: c.accuracy, macroF1: c.macroF1,
      accuracyCi: { lo: NaN, hi: NaN }, macroF1Ci: { lo: NaN, hi: NaN },
      saves: c.saves, breaks: c.breaks, net: c.net, changed: c.nSceneRevised, perScene: c.perScene,
    };
    return { rule, data };
  });
  return { arms, missing: null };
}

interface Paired { claims: Claim[]; sizes: SizeComparison[] }

/** Every interval, difference and test, each on its own sample set; fills
 * each condition's stats and each rule's intervals in place. */
function problemsOf(conditions: ConditionResult[]): Map<string, string> {
  return new Map(conditions.flatMap((c) => (c.problem ? [[c.label, c.problem] as [string, string]] : [])));
}

async function pairAll(armData: Array<{ label: string; data: ExperimentData }>, conditions: ConditionResult[], rules: RuleBaseline[], base: ConditionResult | null, o: PairedOptions, problems: Map<string, string>): Promise<Paired> {
  const arms: Arm[] = armData.map(({ label, data }) => ({ label, codes: new Map(data.predictions.map((p) => [p.sample_id, cellCode(p.scene_type_gt, p.final_scene)])) }));
  const index = new Map(arms.map((a, i) => [a.label, i]));
  const plans = planClaims(conditions, rules, new Set(index.keys()));
  const keyed = new Map<string, Job>();
  const add = (a: string, b?: string): void => { keyed.set(`${a}\u0000${b ?? ''}`, b === undefined ? { a: index.get(a)! } : { a: index.get(a)!, b: index.get(b)! }); };
  for (const a of arms) add(a.label);
  if (base) for (const c of conditions) add(c.label, base.label);
  for (const x of pairsOf(plans)) add(x.a, x.b);
  const keys = [...keyed.keys()];
  const results = await runPaired(arms, [...keyed.values()], o);
  const byKey = new Map(keys.map((k, i) => [k, results[i]!]));
  const boot = o.resamples > 0;
  for (const c of conditions) {
    const own = byKey.get(`${c.label}\u0000`)!;
    const vs = base ? byKey.get(`${c.label}\u0000${base.label}`)! : null;
    c.stats = boot ? conditionStats(own, vs) : null;
  }
  for (const r of rules) {
    const own = byKey.get(`${r.rule}\u0000`)!;
    r.accuracyCi = own.a.accuracyCi;
    r.macroF1Ci = own.a.macroF1Ci;
  }
  const claims = judgeClaims(plans, byKey, problems);
  return { claims, sizes: sizeRows(claims, conditions) };
}

function conditionStats(own: JobResult, vs: JobResult | null): ConditionStats {
  const none = { lo: NaN, hi: NaN };
  const accuracyDiff = vs?.diff?.accuracyCi ?? none;
  const macroF1Diff = vs?.diff?.macroF1Ci ?? none;
  const contains0 = (i: { lo: number; hi: number }): boolean => i.lo <= 0 && i.hi >= 0;
  return {
    accuracy: own.a.accuracyCi, macroF1: own.a.macroF1Ci, accuracyDiff, macroF1Diff,
    nVsBaseline: vs?.n ?? 0, leftOutVsBaseline: vs?.leftOut[0]?.count ?? 0,
    withinNoiseAccuracy: contains0(accuracyDiff), withinNoiseMacroF1: contains0(macroF1Diff),
    withinNoise: contains0(accuracyDiff) && contains0(macroF1Diff),
  };
}

/** The size_matters family as rows: 8B minus 2B per condition. */
function sizeRows(claims: Claim[], conditions: ConditionResult[]): SizeComparison[] {
  return claims.filter((c) => c.family === 'size_matters' && c.comparisons.length === 1).map((cl) => {
    const x = cl.comparisons[0]!;
    const c8 = conditions.find((c) => c.label === x.a)!, c2 = conditions.find((c) => c.label === x.b)!;
    return {
      conditionName: cl.subject, id2b: c2.experimentId, id8b: c8.experimentId,
      macroF1_2b: x.macroF1B, macroF1_8b: x.macroF1A, accuracy_2b: x.accuracyB, accuracy_8b: x.accuracyA,
      revisionRate_2b: c2.revisionRate, revisionRate_8b: c8.revisionRate,
      revisionAccuracy_2b: c2.revisionAccuracy, revisionAccuracy_8b: c8.revisionAccuracy,
      macroF1Diff: x.macroF1Diff, macroF1DiffCi: Number.isFinite(x.macroF1Ci.lo) ? x.macroF1Ci : null,
      only8bRight: x.onlyA, only2bRight: x.onlyB, mcnemarP: x.mcnemarP,
      n: x.n, p: x.p, pHolm: x.pHolm,
      significant: x.verdict === 'better' || x.verdict === 'worse',
    };
  });
}

/** The tool statistics file for the rule comparators, when it exists
 * (a malformed one is an error, not a silent omission). */
export function toolStatsIfPresent(file: string): ToolStats | null {
  return fs.existsSync(file) ? loadToolStats(file) : null;
}

/** Run folders to load: each DIR is a run folder (with experiment.json)
 * or a folder of them, like tool_calling_experiment/runs. */
export function expandRunDirs(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new TceError('NO_RUN_DIR', `${d}: no such directory`, 'pass a run folder or a folder of them (tool_calling_experiment/runs)');
    if (fs.existsSync(path.join(d, EXPERIMENT_FILE))) { out.push(d); continue; }
    const subs = fs.readdirSync(d).map((x) => path.join(d, x)).filter((x) => fs.existsSync(path.join(x, EXPERIMENT_FILE))).sort();
    if (subs.length === 0) throw new TceError('NO_RUN_DIR', `${d}: no ${EXPERIMENT_FILE} in it or in its subfolders`, 'pass a run folder or a folder of them (tool_calling_experiment/runs)');
    out.push(...subs);
  }
  return out;
}

/** Bulk-loads Arrow run folders into a fresh in-memory database and
 * analyses that. The database is returned too, so reports can be written
 * from the same rows. */
export async function analyzeArrow(dirs: string[], opts: AnalyzeOptions = {}): Promise<{ db: DB; result: AnalysisResult }> {
  const db = openDb(':memory:');
  try {
    loadRuns(db, expandRunDirs(dirs));
    return { db, result: await analyzeDb(db, opts) };
  } catch (e) {
    db.close();
    throw e;
  }
}
