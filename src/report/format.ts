// Number formatting shared by the terminal table, Markdown and HTML.
export const fx = (x: number | null | undefined, d = 4): string => (x != null && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export const pct = (x: number | null | undefined, d = 1): string => (x != null && Number.isFinite(x) ? `${(x * 100).toFixed(d)}%` : 'n/a');
export const ms = (x: number | null | undefined): string => (x != null && Number.isFinite(x) ? (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`) : 'n/a');
export const pval = (p: number): string => (!Number.isFinite(p) ? 'n/a' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
export const signed = (x: number, d = 4): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(d)}` : 'n/a');

/** The first line of every report: synthetic runs say so. */
export function provenanceLine(r: { synthetic: boolean; backends: string[] }): string {
  return r.synthetic
    ? `SYNTHETIC RESULTS: simulated model, synthetic data (backend: ${r.backends.join(', ')}). These numbers say nothing about the real SceneIQ model.`
    : `Real model runs (backend: ${r.backends.join(', ')}).`;
}
