// Number formatting the analysis's own sentences and every report share.

/** Smallest p a double can carry with full precision; anything below
 * (including an underflow to 0) is printed as a bound, never as 0. */
export const P_FLOOR = 1e-300;

export const fixed = (x: number | null | undefined, d = 4): string => (x != null && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export const signed = (x: number, d = 4): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(d)}` : 'n/a');

/** A p-value: 4 decimals, scientific below 1e-4, "< 1e-300" below the double range. */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return 'n/a';
  if (p < P_FLOOR) return '< 1e-300';
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

export function formatCi(i: { lo: number; hi: number } | null | undefined, d = 4): string {
  return i && Number.isFinite(i.lo) ? `${signed(i.lo, d)} to ${signed(i.hi, d)}` : 'no interval';
}
