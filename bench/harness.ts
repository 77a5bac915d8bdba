// Shared machinery of `npm run bench`: every bench file compares named
// contenders on the same work in one process run and reports ratios
// against one of them. Timings are medians of several trials; each trial
// records wall and CPU time so results on a noisy 2-core VM can be judged.
import { performance } from 'node:perf_hooks';

export interface Measurement {
  /** Median wall time per operation, ns. */
  wallNsPerOp: number;
  /** Median CPU time (user+sys of this process) per operation, ns. */
  cpuNsPerOp: number;
  /** All trials' wall ns/op, for the spread. */
  trials: number[];
  ops: number;
}

export interface ContenderResult {
  name: string;
  /** The headline figure of the scenario for this contender. */
  value: number;
  unit: string;
  extra?: Record<string, number | string>;
}

export interface ScenarioResult {
  bench: string;
  scenario: string;
  /** 'higher' when a bigger value is better (throughput), else 'lower'. */
  better: 'higher' | 'lower';
  /** Ratios are computed against this contender. */
  baseline: string;
  contenders: ContenderResult[];
  /** Targets from the issues: contender `name` must beat `vs` by `ratio`. */
  targets?: Array<{ name: string; vs: string; ratio: number }>;
  notes?: string;
}

export interface BenchModule {
  name: string;
  run(): Promise<ScenarioResult[]>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `fn` (which performs `ops` operations) `trials` times after
 * `warmup` untimed runs; returns medians. */
export async function measure(fn: () => unknown | Promise<unknown>, ops: number, opts: { trials?: number; warmup?: number } = {}): Promise<Measurement> {
  return (await measureInterleaved([fn], ops, opts))[0]!;
}

/** measure() for several contenders doing the same work, in interleaved
 * rounds: after `warmup` untimed runs of each, every round times each
 * contender once, in order. A drift of the host's speed during the run
 * (this VM's moves by tens of per cent within minutes) then falls on every
 * contender alike, instead of on whichever was measured during it. */
export async function measureInterleaved(fns: ReadonlyArray<() => unknown | Promise<unknown>>, ops: number, opts: { trials?: number; warmup?: number } = {}): Promise<Measurement[]> {
  const trials = opts.trials ?? 5;
  for (let i = 0; i < (opts.warmup ?? 1); i++) for (const fn of fns) await fn();
  const wall = fns.map((): number[] => []);
  const cpu = fns.map((): number[] => []);
  for (let i = 0; i < trials; i++) {
    for (let k = 0; k < fns.length; k++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await fns[k]!();
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      wall[k]!.push(((t1 - t0) * 1e6) / ops);
      cpu[k]!.push(((c1.user + c1.system) * 1e3) / ops);
    }
  }
  return fns.map((_, k) => ({ wallNsPerOp: median(wall[k]!), cpuNsPerOp: median(cpu[k]!), trials: wall[k]!, ops }));
}

/** ratio > 1 means `name` is better than `vs`. */
export function ratio(s: ScenarioResult, name: string, vs: string): number {
  const a = s.contenders.find((c) => c.name === name);
  const b = s.contenders.find((c) => c.name === vs);
  if (!a || !b || a.value === 0 || b.value === 0) return NaN;
  return s.better === 'higher' ? a.value / b.value : b.value / a.value;
}
