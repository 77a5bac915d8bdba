// Number formatting shared by the terminal table, Markdown and HTML.
import { fixed, formatP, signed as signedNumber } from '../analysis/numbers';

export const fx = fixed;
export const pct = (x: number | null | undefined, d = 1): string => (x != null && Number.isFinite(x) ? `${(x * 100).toFixed(d)}%` : 'n/a');
export const ms = (x: number | null | undefined): string => (x != null && Number.isFinite(x) ? (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`) : 'n/a');
/** p-values: "< 1e-300" below the double range (never 0 or 0.0e+0). */
export const pval = formatP;
export const signed = signedNumber;

/** The first line of every report: synthetic runs say so. */
export function provenanceLine(r: { synthetic: boolean; backends: string[] }): string {
  return r.synthetic
    ? `SYNTHETIC RESULTS: simulated model, synthetic data (backend: ${r.backends.join(', ')}). These numbers say nothing about the real SceneIQ model.`
    : `Real model runs (backend: ${r.backends.join(', ')}).`;
}
