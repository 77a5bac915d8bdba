// A string -> line number table over a text of one key per line, with the
// hash index made at build time. Filling a Map with the tokenizer's 151k
// tokens and 151k merge keys cost ~0.25 s of CPU in every simulator process
// (splitting the text, then one insert per key); this loads as one string
// and one Uint32Array, and a lookup hashes and compares only its own key.
// The tokenizer's lookups are few: pieces are memoised (piece-encoder.ts).
//
// Index layout (Uint32, little-endian as written by this machine's arrays):
//   [0]            n, the number of keys
//   [1 .. n+1]     offsets: key i is text[off[i], off[i+1] - 1) (each key
//                  is followed by one '\n' in the text, the last one too)
//   [n+2 ..]       open-addressing slots, a power of two: 0 empty, else key
//                  index + 1, probed linearly from fnv1a(key)

/** 32-bit FNV-1a over UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The text (`keys` joined, each ending in '\n') and its index. */
export function buildLineIndex(keys: readonly string[]): { text: string; index: Uint32Array } {
  let bits = 1;
  while (1 << bits < keys.length * 2) bits++;
  const slots = 1 << bits;
  const index = new Uint32Array(2 + keys.length + slots);
  index[0] = keys.length;
  let at = 0;
  keys.forEach((k, i) => {
    index[1 + i] = at;
    at += k.length + 1;
  });
  index[1 + keys.length] = at;
  const base = 2 + keys.length;
  keys.forEach((k, i) => {
    let h = fnv1a(k) & (slots - 1);
    while (index[base + h] !== 0) h = (h + 1) & (slots - 1);
    index[base + h] = i + 1;
  });
  return { text: keys.map((k) => `${k}\n`).join(''), index };
}

/** Key -> line number, read from a built index; entries `set` later (the
 * tokenizer's added tokens) take precedence. Only `get`, `has` and `size`
 * see the indexed keys: iteration lists the added entries alone, which is
 * all the tokenizer package iterates (while it is constructed). */
export class LineIndexMap extends Map<string, number> {
  private readonly n: number;
  private readonly mask: number;

  /** Throws when `index` does not describe `text` (another build's files). */
  constructor(private readonly text: string, private readonly index: Uint32Array) {
    super();
    this.n = index[0] ?? 0;
    const slots = index.length - 2 - this.n;
    if (slots <= 0 || (slots & (slots - 1)) !== 0 || index[1 + this.n] !== text.length) {
      throw new Error('line index does not match its text');
    }
    this.mask = slots - 1;
  }

  private find(key: string): number | undefined {
    const base = 2 + this.n;
    for (let h = fnv1a(key) & this.mask; ; h = (h + 1) & this.mask) {
      const e = this.index[base + h]!;
      if (e === 0) return undefined;
      const start = this.index[e]!;
      if (this.index[e + 1]! - start - 1 === key.length && this.text.startsWith(key, start)) return e - 1;
    }
  }

  override get(key: string): number | undefined {
    return super.get(key) ?? this.find(key);
  }

  override has(key: string): boolean {
    return super.has(key) || this.find(key) !== undefined;
  }

  override get size(): number {
    return super.size + this.n;
  }
}
