// Exact McNemar test and the seeded bootstrap core. The core is a plain
// function over typed arrays so the piscina worker and the one-thread path
// run the very same code.
import { N_CELLS, percentileSorted, scoresFromCells } from './metrics';

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
