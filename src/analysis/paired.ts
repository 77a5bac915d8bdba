// Paired comparisons on one sample set each. An "arm" is anything with a
// final scene per sample: a condition, a staged run's first answer, a rule
// comparator. A job is one arm (its own interval) or two (the difference
// a - b). Every job's point estimates, bootstrap interval, p-value and
// McNemar test use the same samples: those both arms have. Jobs whose sets
// coincide (the normal, complete suite) share one bootstrap run, so their
// intervals are paired across all of them.
import { N_CLASSES, N_CELLS, scoresFromCells } from '../protocol/scores';
import { bootstrapP, mcnemarExact, percentileInterval, type Interval } from './stats';
import { column, runBootstrap } from './bootstrap-pool';

export interface Arm {
  label: string;
  /** sample_id -> confusion cell code (metrics.cellCode). */
  codes: Map<number, number>;
}

export interface Job { a: number; b?: number }

export interface ArmEstimate { accuracy: number; macroF1: number; accuracyCi: Interval; macroF1Ci: Interval }

export interface DiffEstimate {
  accuracy: number; macroF1: number;
  accuracyCi: Interval; macroF1Ci: Interval;
  /** Paired bootstrap p of "no difference" (NaN without a bootstrap). */
  accuracyP: number; macroF1P: number;
  /** Samples right only with a / only with b, and the exact McNemar p (accuracy). */
  onlyA: number; onlyB: number; mcnemarP: number;
}

export interface JobResult {
  job: Job;
  /** Samples in the set: those every arm of the job has. */
  n: number;
  /** Per arm of the job: its samples left out because the other arm lacks them. */
  leftOut: Array<{ label: string; count: number }>;
  a: ArmEstimate;
  b: ArmEstimate | null;
  diff: DiffEstimate | null;
}

export interface PairedOptions { resamples: number; seed: number; workers?: number | undefined }

const NONE: Interval = { lo: NaN, hi: NaN };
const isRight = (code: number): boolean => {
  const g = Math.floor(code / (N_CLASSES + 1));
  return g < N_CLASSES && g === code % (N_CLASSES + 1);
};

function sampleSet(arms: Arm[], cols: number[]): number[] {
  const [first, ...rest] = cols.map((c) => arms[c]!.codes);
  return [...first!.keys()].filter((sid) => rest.every((m) => m.has(sid))).sort((x, y) => x - y);
}

function pointScores(arm: Arm, ids: number[]): { accuracy: number; macroF1: number } {
  const cells = new Float64Array(N_CELLS);
  for (const sid of ids) cells[arm.codes.get(sid)!]!++;
  const s = scoresFromCells(cells);
  return { accuracy: s.accuracy, macroF1: s.macroF1 };
}

/** Runs every job; jobs with the same sample set share one bootstrap. */
export async function runPaired(arms: Arm[], jobs: Job[], o: PairedOptions): Promise<JobResult[]> {
  const groups = new Map<string, { ids: number[]; jobs: number[] }>();
  jobs.forEach((job, j) => {
    const ids = sampleSet(arms, job.b === undefined ? [job.a] : [job.a, job.b]);
    const key = ids.join(',');
    const g = groups.get(key);
    if (g) g.jobs.push(j); else groups.set(key, { ids, jobs: [j] });
  });
  const out: JobResult[] = new Array(jobs.length);
  for (const g of groups.values()) {
    const cols = [...new Set(g.jobs.flatMap((j) => [jobs[j]!.a, ...(jobs[j]!.b === undefined ? [] : [jobs[j]!.b!])]))];
    const nc = cols.length;
    const codes = new Uint8Array(g.ids.length * nc);
    g.ids.forEach((sid, i) => cols.forEach((c, k) => { codes[i * nc + k] = arms[c]!.codes.get(sid)!; }));
    const run = o.resamples > 0 && g.ids.length > 0
      ? await runBootstrap(codes, g.ids.length, nc, { resamples: o.resamples, seed: o.seed, ...(o.workers !== undefined ? { workers: o.workers } : {}) })
      : null;
    const at = (c: number): number => cols.indexOf(c);
    const estimate = (c: number): ArmEstimate => ({
      ...pointScores(arms[c]!, g.ids),
      accuracyCi: run ? percentileInterval(column(run.accuracy, nc, at(c))) : NONE,
      macroF1Ci: run ? percentileInterval(column(run.macroF1, nc, at(c))) : NONE,
    });
    for (const j of g.jobs) {
      const job = jobs[j]!;
      const a = estimate(job.a);
      const b = job.b === undefined ? null : estimate(job.b);
      const leftOut = (job.b === undefined ? [job.a] : [job.a, job.b]).map((c) => ({ label: arms[c]!.label, count: arms[c]!.codes.size - g.ids.length }));
      out[j] = { job, n: g.ids.length, leftOut, a, b, diff: b ? diffOf(arms, job.a, job.b!, g.ids, a, b, run ? { run, nc, ia: at(job.a), ib: at(job.b!) } : null) : null };
    }
  }
  return out;
}

function diffOf(arms: Arm[], ca: number, cb: number, ids: number[], a: ArmEstimate, b: ArmEstimate,
  boot: { run: { accuracy: Float64Array; macroF1: Float64Array }; nc: number; ia: number; ib: number } | null): DiffEstimate {
  let onlyA = 0, onlyB = 0;
  for (const sid of ids) {
    const ra = isRight(arms[ca]!.codes.get(sid)!), rb = isRight(arms[cb]!.codes.get(sid)!);
    if (ra && !rb) onlyA++;
    if (rb && !ra) onlyB++;
  }
  const accD = boot ? column(boot.run.accuracy, boot.nc, boot.ia, boot.ib) : null;
  const f1D = boot ? column(boot.run.macroF1, boot.nc, boot.ia, boot.ib) : null;
  return {
    accuracy: a.accuracy - b.accuracy, macroF1: a.macroF1 - b.macroF1,
    accuracyCi: accD ? percentileInterval(accD) : NONE, macroF1Ci: f1D ? percentileInterval(f1D) : NONE,
    accuracyP: accD ? bootstrapP(accD) : NaN, macroF1P: f1D ? bootstrapP(f1D) : NaN,
    onlyA, onlyB, mcnemarP: mcnemarExact(onlyA, onlyB),
  };
}
