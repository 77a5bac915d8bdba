// Distribution summaries of the waypoint statistics. Percentiles use linear
// interpolation between order statistics (numpy's default), and std is the
// population std (numpy's default ddof=0), so the plan's Python would agree.
import type { Summary } from './stats-schema';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty list');
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  return a + (sorted[hi]! - a) * (rank - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  const variance = sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / sorted.length;
  return {
    mean, std: Math.sqrt(variance),
    p1: percentile(sorted, 1), p5: percentile(sorted, 5), p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99),
  };
}
