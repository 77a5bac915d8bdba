// LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md),
// encoder and decoder, for Arrow IPC buffer compression (LZ4_FRAME, the
// codec every Arrow reader knows). Node has no LZ4 and Node 20's zlib no
// zstd encoder; this greedy single-probe compressor is the LZ4 "fast" level
// in ~150 lines: independent blocks of up to 4 MiB, no checksums but the
// mandatory header one.
// The blocks go through the native addon's codec where the caller passes it
// (store/arrow-columns.ts; the same bytes, faster both ways: `npm run bench
// -- arrow` measures it), else through the TypeScript one here.

const MAGIC = 0x184d2204;
const BLOCK_MAX = 4 << 20;
/** FLG: version 01, blocks independent, content size present (the
 * decoder allocates once); BD: 4 MiB blocks. */
const FLG = 0x68;
const BD = 0x70;
const MIN_MATCH = 4;
/** The last match starts at least 12 bytes before the block's end, and the
 * last 5 bytes are literals (LZ4 block format, "end of block conditions"). */
const MF_LIMIT = 12;
const LAST_LITERALS = 5;
const HASH_BITS = 16;

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** xxHash32 of a short input (< 16 bytes: the frame descriptor). */
export function xxh32Short(b: Uint8Array, seed = 0): number {
  let h = (seed + P5 + b.length) >>> 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) {
    const w = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
    h = Math.imul(rotl((h + Math.imul(w, P3)) >>> 0, 17), P4) >>> 0;
  }
  for (; i < b.length; i++) h = Math.imul(rotl((h + Math.imul(b[i]!, P5)) >>> 0, 11), P1) >>> 0;
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0;
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const read32 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

/** src[s, s+n) to dst at d; short runs by hand (a subarray per sequence
 * costs more than the copy). Returns the end. */
function copy(src: Uint8Array, s: number, n: number, dst: Uint8Array, d: number): number {
  if (n > 32) { dst.set(src.subarray(s, s + n), d); return d + n; }
  for (let k = 0; k < n; k++) dst[d++] = src[s++]!;
  return d;
}

function writeLength(dst: Uint8Array, d: number, n: number): number {
  for (; n >= 255; n -= 255) dst[d++] = 255;
  dst[d++] = n;
  return d;
}

/** One sequence: literals src[lit, lit+litLen), then a match (matchLen 0:
 * the block's last literals). Returns the new write position. */
function emit(src: Uint8Array, lit: number, litLen: number, dst: Uint8Array, d: number, offset: number, matchLen: number): number {
  const ml = matchLen ? matchLen - MIN_MATCH : 0;
  dst[d++] = (Math.min(litLen, 15) << 4) | Math.min(ml, 15);
  if (litLen >= 15) d = writeLength(dst, d, litLen - 15);
  d = copy(src, lit, litLen, dst, d);
  if (!matchLen) return d;
  dst[d++] = offset & 0xff;
  dst[d++] = offset >>> 8;
  return ml >= 15 ? writeLength(dst, d, ml - 15) : d;
}

// One match table for every block: an entry holds a position counted from
// `epoch` (the positions handed out before this block), so an entry left by
// an earlier block reads as before s0, exactly as a cleared one would. Arrow
// compresses each column buffer on its own, most of them a few hundred
// bytes, and allocating and zeroing a 256 KB table for each was most of the
// encoder's time. The output bytes are the same.
const table = new Int32Array(1 << HASH_BITS);
let epoch = 0;

/** Compresses src[s0, s1) as one LZ4 block into dst at d; returns the end. */
function compressBlock(src: Uint8Array, s0: number, s1: number, dst: Uint8Array, d: number): number {
  if (epoch + (s1 - s0) + 1 > 0x7fffffff) {
    table.fill(0);
    epoch = 0;
  }
  const base = epoch - s0 + 1;
  epoch += s1 - s0 + 1;
  let anchor = s0;
  let i = s0;
  const mfLimit = s1 - MF_LIMIT;
  const matchEnd = s1 - LAST_LITERALS;
  while (i < mfLimit) {
    const seq = read32(src, i);
    const h = Math.imul(seq, P1) >>> (32 - HASH_BITS);
    const ref = table[h]! - base;
    table[h] = i + base;
    if (ref < s0 || i - ref > 0xffff || read32(src, ref) !== seq) {
      // Skip faster through data that does not compress.
      i += 1 + ((i - anchor) >> 6);
      continue;
    }
    let m = MIN_MATCH;
    while (i + m < matchEnd && src[ref + m] === src[i + m]) m++;
    d = emit(src, anchor, i - anchor, dst, d, i - ref, m);
    i += m;
    anchor = i;
  }
  return emit(src, anchor, s1 - anchor, dst, d, 0, 0);
}

/** A block codec to use instead of this file's (the addon's). */
export interface Lz4Blocks {
  /** src[start, end) as one block into dst[at, limit): its end, or -1 when it does not fit. */
  encode(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number, limit: number): number;
  /** The block src[start, end) into dst from `at`: the end, or -1 when dst is too small. */
  decode(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number;
}

/** `data` as one LZ4 frame. */
export function lz4FrameEncode(data: Uint8Array, codec?: Lz4Blocks | null): Uint8Array {
  const n = data.length;
  const blocks = Math.max(1, Math.ceil(n / BLOCK_MAX));
  const out = new Uint8Array(15 + blocks * 4 + n + Math.ceil(n / 255) + 16 * blocks + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  out[4] = FLG;
  out[5] = BD;
  view.setBigUint64(6, BigInt(n), true);
  out[14] = (xxh32Short(out.subarray(4, 14)) >>> 8) & 0xff;
  let d = 15;
  for (let s = 0; s < n; s += BLOCK_MAX) {
    const e = Math.min(n, s + BLOCK_MAX);
    // Room for the block as stored raw: a compressed one as long is stored raw anyway.
    const end = codec ? codec.encode(data, s, e, out, d + 4, d + 4 + (e - s)) : compressBlock(data, s, e, out, d + 4);
    if (end < 0 || end - (d + 4) >= e - s) {
      // Incompressible: stored raw (high bit of the size set).
      view.setUint32(d, ((e - s) | 0x80000000) >>> 0, true);
      out.set(data.subarray(s, e), d + 4);
      d += 4 + (e - s);
    } else {
      view.setUint32(d, end - (d + 4), true);
      d = end;
    }
  }
  view.setUint32(d, 0, true);
  return out.slice(0, d + 4);
}

/** A byte sink that grows when the frame does not state its size. */
class Sink {
  buf: Uint8Array;
  n = 0;
  constructor(size: number) { this.buf = new Uint8Array(Math.max(size, 64)); }
  reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
}

function readLength(src: Uint8Array, p: { i: number }, n: number): number {
  if (n !== 15) return n;
  let b: number;
  do { b = src[p.i++]!; n += b; } while (b === 255);
  return n;
}

function decodeBlock(src: Uint8Array, s: number, e: number, out: Sink): void {
  const p = { i: s };
  while (p.i < e) {
    const token = src[p.i++]!;
    const lit = readLength(src, p, token >> 4);
    out.reserve(lit);
    out.n = copy(src, p.i, lit, out.buf, out.n);
    p.i += lit;
    if (p.i >= e) return;
    const offset = src[p.i]! | (src[p.i + 1]! << 8);
    p.i += 2;
    const len = readLength(src, p, token & 15) + MIN_MATCH;
    let from = out.n - offset;
    if (offset === 0 || from < 0) throw new Error('lz4: match offset out of range');
    out.reserve(len);
    const b = out.buf;
    // Byte by byte: a match may overlap its own output (a run).
    for (let k = 0, t = out.n; k < len; k++) b[t++] = b[from++]!;
    out.n += len;
  }
}

/** A block through the given codec, the sink grown until it fits. */
function decodeWith(codec: Lz4Blocks, src: Uint8Array, s: number, e: number, out: Sink): void {
  for (;;) {
    const end = codec.decode(src, s, e, out.buf, out.n);
    if (end >= 0) {
      out.n = end;
      return;
    }
    out.reserve(out.buf.length - out.n + 1);
  }
}

/** The bytes of an LZ4 frame (any block size, checksums skipped). */
export function lz4FrameDecode(frame: Uint8Array, codec?: Lz4Blocks | null): Uint8Array {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 7 || view.getUint32(0, true) !== MAGIC) throw new Error('lz4: not an LZ4 frame');
  const flg = frame[4]!;
  if (flg >> 6 !== 1) throw new Error('lz4: unknown frame version');
  if (!(flg & 0x20)) throw new Error('lz4: linked blocks are not supported');
  const size = flg & 0x08 ? Number(view.getBigUint64(6, true)) : frame.length * 4;
  let i = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
  const out = new Sink(size);
  for (;;) {
    const block = view.getUint32(i, true);
    i += 4;
    if (block === 0) break;
    const len = block & 0x7fffffff;
    if (i + len > frame.length) throw new Error('lz4: a block runs past the frame');
    if (block & 0x80000000) {
      out.reserve(len);
      out.buf.set(frame.subarray(i, i + len), out.n);
      out.n += len;
    } else if (codec) decodeWith(codec, frame, i, i + len, out);
    else decodeBlock(frame, i, i + len, out);
    i += len + (flg & 0x10 ? 4 : 0);
  }
  return out.buf.subarray(0, out.n);
}
