// Pure metric functions shared by the point estimates and the bootstrap
// workers, so both compute exactly the same thing.
import { SCENES } from '../domain/enums';
import { N_CLASSES } from '../protocol/scores';

/** Row and column names of the 6x6 confusion matrix. */
export const CONFUSION_ROWS = [...SCENES, 'unlabelled'];
export const CONFUSION_COLS = [...SCENES, 'unparseable'];

export interface ClassScore { tp: number; support: number; predicted: number; precision: number; recall: number; f1: number }

export function classScores(cells: ArrayLike<number>): ClassScore[] {
  const w = N_CLASSES + 1;
  const out: ClassScore[] = [];
  for (let c = 0; c < N_CLASSES; c++) {
    const tp = cells[c * w + c]!;
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < w; j++) {
      support += cells[c * w + j]!;
      predicted += cells[j * w + c]!;
    }
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    out.push({ tp, support, predicted, precision, recall, f1: support + predicted === 0 ? 0 : (2 * tp) / (support + predicted) });
  }
  return out;
}

/** Linear-interpolated percentile (numpy's default) of an ascending array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface Distribution {
  n: number;
  mean: number;
  p10: number; p25: number; p40: number; p50: number; p95: number; p99: number;
  /** Share of values under 5,000 (ms): spec 004's SLA figure. */
  shareUnder5s: number;
  max: number;
}

/** Summary of a latency (or token) sample; nulls are left out. */
export function distribution(values: Iterable<number | null | undefined>): Distribution {
  const xs: number[] = [];
  for (const v of values) if (v != null && Number.isFinite(v)) xs.push(v);
  const s = Float64Array.from(xs).sort();
  let sum = 0;
  let under = 0;
  for (const x of s) { sum += x; if (x < 5000) under++; }
  const n = s.length;
  return {
    n,
    mean: n ? sum / n : NaN,
    p10: percentileSorted(s, 10), p25: percentileSorted(s, 25), p40: percentileSorted(s, 40),
    p50: percentileSorted(s, 50), p95: percentileSorted(s, 95), p99: percentileSorted(s, 99),
    shareUnder5s: n ? under / n : NaN,
    max: n ? s[n - 1]! : NaN,
  };
}
