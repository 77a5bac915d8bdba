// Sample-id sets as compact range lists ("1-400,402,410-8613"): a suite
// records the whole selection (before sharding) in every shard's experiment
// row, so an analysis of merged shards can name the samples still absent.

export function encodeRanges(ids: Iterable<number>): string {
  const s = [...new Set(ids)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** The ids of a range list; null when the text is not one. */
export function decodeRanges(text: string): number[] | null {
  if (text === '') return [];
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(-?\d+)(?:-(-?\d+))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 10_000_000) return null;
    for (let x = a; x <= b; x++) out.push(x);
  }
  return out;
}
