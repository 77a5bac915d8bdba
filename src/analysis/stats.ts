// Exact McNemar test and the seeded bootstrap core. The core is a plain
// function over typed arrays so the piscina worker and the one-thread path
// run the very same code.
import { N_CELLS, scoresFromCells } from '../protocol/scores';
import { percentileSorted } from './metrics';

const logFactCache: number[] = [0];
function logFactorial(n: number): number {
  for (let k = logFactCache.length; k <= n; k++) logFactCache[k] = logFactCache[k - 1]! + Math.log(k);
  return logFactCache[n]!;
}

/** Two-sided exact McNemar test on the discordant pairs (b = saves,
 * c = breaks): the binomial test of min(b, c) under Bin(b + c, 1/2),
 * doubled and capped at 1 (scipy.stats.binomtest's two-sided p for p=0.5). */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  const lf = logFactorial(n);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(lf - logFactorial(i) - logFactorial(n - i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/** sfc32: small, fast, seedable; the same seed gives the same stream on
 * every platform (Math.random cannot be seeded). */
export function sfc32(seed: number, stream: number): () => number {
  let a = seed >>> 0, b = (stream * 0x9e3779b9) >>> 0, c = 0x243f6a88 ^ stream, d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** Samples with the same cell code in every condition are one pattern:
 * a resample then counts patterns (one increment per draw) and adds each
 * pattern's count to its conditions' cells once. Real suites have far
 * fewer patterns than samples (most samples end the same way everywhere). */
export interface Patterns {
  /** Pattern id of each sample. */
  patternOf: Uint32Array;
  /** Cell codes of each pattern: codes[p * nConditions + c]. */
  codes: Uint8Array;
  nPatterns: number;
}

export function compressPatterns(codes: Uint8Array, nSamples: number, nConditions: number): Patterns {
  const ids = new Map<string, number>();
  const patternOf = new Uint32Array(nSamples);
  const out: number[] = [];
  for (let i = 0; i < nSamples; i++) {
    const row = codes.subarray(i * nConditions, (i + 1) * nConditions);
    const key = String.fromCharCode(...row);
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
      for (const x of row) out.push(x);
    }
    patternOf[i] = id;
  }
  return { patternOf, codes: Uint8Array.from(out), nPatterns: ids.size };
}

export interface BootstrapChunk extends Patterns {
  nSamples: number;
  nConditions: number;
  seed: number;
  /** Resamples [first, first + count) of the whole run. */
  first: number;
  count: number;
}

/** Per resample and condition: accuracy and macro-F1, laid out
 * [resample][condition]. Each resample r draws its indices from its own
 * stream (seed, r), so results do not depend on how the run is split
 * across workers. Every condition sees the same indices (paired). */
export function bootstrapChunk(job: BootstrapChunk): { accuracy: Float64Array; macroF1: Float64Array } {
  const { patternOf, codes, nPatterns, nSamples: n, nConditions: nc, seed, first, count } = job;
  const accuracy = new Float64Array(count * nc);
  const macroF1 = new Float64Array(count * nc);
  const cells = new Uint32Array(nc * N_CELLS);
  const counts = new Uint32Array(nPatterns);
  for (let r = 0; r < count; r++) {
    cells.fill(0);
    counts.fill(0);
    const rand = sfc32(seed, first + r);
    for (let k = 0; k < n; k++) counts[patternOf[Math.floor(rand() * n)]!]!++;
    for (let p = 0; p < nPatterns; p++) {
      const w = counts[p]!;
      if (w === 0) continue;
      for (let c = 0; c < nc; c++) cells[c * N_CELLS + codes[p * nc + c]!]! += w;
    }
    for (let c = 0; c < nc; c++) {
      const s = scoresFromCells(cells, c * N_CELLS);
      accuracy[r * nc + c] = s.accuracy;
      macroF1[r * nc + c] = s.macroF1;
    }
  }
  return { accuracy, macroF1 };
}

export interface Interval { lo: number; hi: number }

/** Percentile 95% interval of the given per-resample values. */
export function percentileInterval(values: Float64Array): Interval {
  const s = Float64Array.from(values).sort();
  return { lo: percentileSorted(s, 2.5), hi: percentileSorted(s, 97.5) };
}

/** Two-sided p-value of "the difference is 0" from its paired bootstrap
 * resamples: twice the smaller tail share at 0, with the +1 correction so
 * a finite run never claims p = 0 (its resolution is 2 / (B + 1)). This is
 * the test the percentile interval inverts: p < 0.05 exactly when the 95%
 * interval leaves 0 out (up to the interval's interpolation). */
export function bootstrapP(diffs: ArrayLike<number>): number {
  const b = diffs.length;
  if (b === 0) return NaN;
  let le = 0, ge = 0;
  for (let i = 0; i < b; i++) {
    const d = diffs[i]!;
    if (d <= 0) le++;
    if (d >= 0) ge++;
  }
  return Math.min(1, (2 * (Math.min(le, ge) + 1)) / (b + 1));
}

/** Holm's step-down adjustment of a family of p-values (same order out as
 * in). NaN p-values (tests that could not run) stay NaN and do not count
 * toward the family size. */
export function holm(ps: readonly number[]): number[] {
  const idx = ps.map((p, i) => ({ p, i })).filter((x) => Number.isFinite(x.p)).sort((a, b) => a.p - b.p);
  const m = idx.length;
  const out = ps.map(() => NaN);
  let running = 0;
  idx.forEach((x, k) => {
    running = Math.max(running, Math.min(1, (m - k) * x.p));
    out[x.i] = running;
  });
  return out;
}

/** Wilson score 95% interval of a proportion k / n. */
export function wilson(k: number, n: number): Interval {
  if (n === 0) return { lo: NaN, hi: NaN };
  const z = 1.959963984540054;
  const p = k / n;
  const den = 1 + (z * z) / n;
  const mid = (p + (z * z) / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / den;
  return { lo: Math.max(0, mid - half), hi: Math.min(1, mid + half) };
}

/** Newcombe's hybrid score 95% interval of p1 - p2 for two independent
 * proportions (method 10), built from the two Wilson intervals. */
export function newcombeDiff(k1: number, n1: number, k2: number, n2: number): Interval {
  if (n1 === 0 || n2 === 0) return { lo: NaN, hi: NaN };
  const p1 = k1 / n1, p2 = k2 / n2;
  const a = wilson(k1, n1), b = wilson(k2, n2);
  const d = p1 - p2;
  return {
    lo: d - Math.sqrt((p1 - a.lo) ** 2 + (b.hi - p2) ** 2),
    hi: d + Math.sqrt((a.hi - p1) ** 2 + (p2 - b.lo) ** 2),
  };
}
