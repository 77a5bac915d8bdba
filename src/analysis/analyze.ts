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
import { cellCode } from './metrics';
import { mcnemarExact, percentileInterval } from './stats';
import { column, runBootstrap } from './bootstrap-pool';
import { computeCondition, isCorrect } from './condition';
import { decide, SIGNIFICANCE } from './decision';
import { loadExperiment, selectExperiments, type ExperimentData } from './load';
import type { AnalysisResult, ConditionResult, SizeComparison } from './types';

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
}

export async function analyzeDb(db: DB, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const infos = selectExperiments(db, opts.experimentIds);
  if (infos.length === 0) throw new TceError('NO_EXPERIMENTS', `${db.name}: experiments: no experiments to analyse`, 'run `tce start` (or `tce run`) first, or pass --from-arrow DIR');
  const data = infos.map((i) => loadExperiment(db, i));
  const base = data.find((d) => d.info.condition_name === 'baseline') ?? null;
  const baselineCorrect = base ? new Map(base.predictions.map((p) => [p.sample_id, isCorrect(p, p.final_scene)])) : null;
  const conditions = data.map((d) => computeCondition(d, baselineCorrect));
  const resamples = opts.bootstrap ?? 10_000;
  const seed = opts.seed ?? 42;
  const boot = resamples > 0 ? await bootstrapAll(data, conditions, resamples, seed, opts.workers) : null;
  const sizeComparison = compareSizes(data, conditions, boot);
  return {
    synthetic: conditions.some((c) => c.synthetic),
    backends: [...new Set(conditions.map((c) => c.backend ?? 'unknown'))].sort(),
    baselineId: base?.info.experiment_id ?? null,
    bootstrap: { resamples: boot ? resamples : 0, seed },
    conditions,
    sizeComparison,
    decision: decide(conditions, sizeComparison, opts.gateThreshold ?? 0.7),
  };
}

interface Boot { sampleIds: number[]; nc: number; acc: Float64Array; f1: Float64Array }

/** Paired bootstrap over the samples every condition has. */
async function bootstrapAll(data: ExperimentData[], conditions: ConditionResult[], resamples: number, seed: number, workers?: number): Promise<Boot> {
  const nc = data.length;
  const perCond = data.map((d) => new Map(d.predictions.map((p) => [p.sample_id, p])));
  const sampleIds = [...perCond[0]!.keys()].filter((sid) => perCond.every((m) => m.has(sid)));
  const codes = new Uint8Array(sampleIds.length * nc);
  sampleIds.forEach((sid, i) => perCond.forEach((m, c) => {
    const p = m.get(sid)!;
    codes[i * nc + c] = cellCode(p.scene_type_gt, p.final_scene);
  }));
  const run = await runBootstrap(codes, sampleIds.length, nc, { resamples, seed, ...(workers !== undefined ? { workers } : {}) });
  const bi = data.findIndex((d) => d.info.condition_name === 'baseline');
  // Without a baseline experiment there is nothing to difference against.
  const none = { lo: NaN, hi: NaN };
  conditions.forEach((c, i) => {
    const accuracyDiff = bi >= 0 ? percentileInterval(column(run.accuracy, nc, i, bi)) : none;
    const macroF1Diff = bi >= 0 ? percentileInterval(column(run.macroF1, nc, i, bi)) : none;
    c.stats = {
      accuracy: percentileInterval(column(run.accuracy, nc, i)),
      macroF1: percentileInterval(column(run.macroF1, nc, i)),
      accuracyDiff, macroF1Diff,
      withinNoise: accuracyDiff.lo <= 0 && accuracyDiff.hi >= 0 && macroF1Diff.lo <= 0 && macroF1Diff.hi >= 0,
    };
  });
  return { sampleIds, nc, acc: run.accuracy, f1: run.macroF1 };
}

function compareSizes(data: ExperimentData[], conditions: ConditionResult[], boot: Boot | null): SizeComparison[] {
  const out: SizeComparison[] = [];
  for (const name of [...new Set(conditions.map((c) => c.conditionName))]) {
    const i2 = conditions.findIndex((c) => c.conditionName === name && c.verifierSize === '2b');
    const i8 = conditions.findIndex((c) => c.conditionName === name && c.verifierSize === '8b');
    if (i2 < 0 || i8 < 0) continue;
    const c2 = conditions[i2]!, c8 = conditions[i8]!;
    const right2 = new Map(data[i2]!.predictions.map((p) => [p.sample_id, isCorrect(p, p.final_scene)]));
    let only8 = 0, only2 = 0;
    for (const p of data[i8]!.predictions) {
      const r2 = right2.get(p.sample_id);
      if (r2 === undefined) continue;
      const r8 = isCorrect(p, p.final_scene);
      if (r8 && !r2) only8++;
      if (r2 && !r8) only2++;
    }
    const ci = boot ? percentileInterval(column(boot.f1, boot.nc, i8, i2)) : null;
    const p = mcnemarExact(only8, only2);
    out.push({
      conditionName: name, id2b: c2.experimentId, id8b: c8.experimentId,
      macroF1_2b: c2.macroF1, macroF1_8b: c8.macroF1, accuracy_2b: c2.accuracy, accuracy_8b: c8.accuracy,
      revisionRate_2b: c2.revisionRate, revisionRate_8b: c8.revisionRate,
      revisionAccuracy_2b: c2.revisionAccuracy, revisionAccuracy_8b: c8.revisionAccuracy,
      macroF1Diff: c8.macroF1 - c2.macroF1, macroF1DiffCi: ci,
      only8bRight: only8, only2bRight: only2, mcnemarP: p,
      significant: ci ? ci.lo > 0 || ci.hi < 0 : p < SIGNIFICANCE,
    });
  }
  return out;
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
