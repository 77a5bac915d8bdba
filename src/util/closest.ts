// "Did you mean": the names most like a wanted one, for errors that list
// what a file has instead (a renamed column, a table spelt differently).
// Names from real databases differ by case, separators, abbreviation
// (pred / predicted) and word order (scene_pred / predicted_scene), so the
// score looks at words as well as characters.

/** Lower-case letters and digits only: `Scene-Type GT` -> `scenetypegt`. */
const squash = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Words of a name: split at separators and camelCase humps. */
function words(s: string): string[] {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** One word stands for another: equal, or an abbreviation of at least 3 letters. */
const sameWord = (x: string, y: string): boolean => x === y || (Math.min(x.length, y.length) >= 3 && (x.startsWith(y) || y.startsWith(x)));

/** Share of the shorter name's words that the other name also has. */
function wordCover(a: string, b: string): number {
  const [short, long] = [words(a), words(b)].sort((x, y) => x.length - y.length) as [string[], string[]];
  if (short.length === 0) return 0;
  return short.filter((w) => long.some((v) => sameWord(w, v))).length / short.length;
}

/** Lower is closer; undefined = not alike. */
function distance(want: string, have: string): number | undefined {
  const a = squash(want);
  const b = squash(have);
  if (!a || !b) return undefined;
  if (a === b) return 0;
  if (Math.min(a.length, b.length) >= 3 && (a.includes(b) || b.includes(a))) return 1;
  const cover = wordCover(want, have);
  if (cover === 1) return 1.5;
  const d = editDistance(a, b);
  if (d <= Math.max(1, Math.floor(Math.max(a.length, b.length) / 3))) return 2 + d / Math.max(a.length, b.length);
  if (cover >= 0.5) return PARTIAL + 1 - cover;
  return undefined;
}

/** Scores from here on share only some words (gt_long for scene_type_gt):
 * shown only when nothing closer is there. */
const PARTIAL = 3;

/** Up to `max` of `candidates` most like `want`, closest first (ties keep
 * the candidates' order). */
export function closestNames(want: string, candidates: readonly string[], max = 3): string[] {
  const near = candidates
    .map((c, i) => ({ c, i, d: distance(want, c) }))
    .filter((x): x is { c: string; i: number; d: number } => x.d !== undefined)
    .sort((x, y) => x.d - y.d || x.i - y.i);
  const best = near[0]?.d ?? PARTIAL;
  return near.filter((x) => best >= PARTIAL || x.d < PARTIAL).slice(0, max).map((x) => x.c);
}
