// A narrow PNG reader for the simulator's eyes (vision.ts). pngjs spends
// ~0.5 ms on a 128x96 fixture image (chunk streams, a per-line filter
// object, the RGBA remap), which is most of the first phase's image cost
// (one decode per sample). Only the plainest files are read here: 8-bit
// RGB or RGBA, not interlaced, chunks IHDR, IDAT..., IEND and nothing else,
// every CRC correct, the inflated data exactly the expected size. Anything
// else returns null and goes to pngjs, so which files are accepted or
// rejected (and with which message) does not change.
import zlib from 'node:zlib';

export interface PlainPixels {
  width: number;
  height: number;
  /** Unfiltered pixels, `channels` bytes each, no row filter bytes. */
  data: Uint8Array;
  channels: 3 | 4;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

interface Chunks {
  ihdr: Buffer;
  idat: Buffer[];
}

/** Splits the file into its chunks, checking each CRC; null on anything but
 * IHDR, IDAT+ (consecutive), IEND at the very end. */
function plainChunks(b: Buffer): Chunks | null {
  if (!crc32 || b.length < 8) return null;
  for (let i = 0; i < 8; i++) if (b[i] !== SIGNATURE[i]) return null;
  let ihdr: Buffer | null = null;
  const idat: Buffer[] = [];
  for (let o = 8; o + 12 <= b.length; ) {
    const len = b.readUInt32BE(o);
    if (len > b.length - o - 12) return null;
    const type = b.toString('latin1', o + 4, o + 8);
    const body = b.subarray(o + 8, o + 8 + len);
    if (crc32(b.subarray(o + 4, o + 8 + len)) !== b.readUInt32BE(o + 8 + len)) return null;
    o += 12 + len;
    if (type === 'IHDR' && ihdr === null && o === 33 && len === 13) ihdr = body;
    else if (type === 'IDAT' && ihdr !== null) idat.push(body);
    else if (type === 'IEND' && idat.length > 0 && len === 0 && o === b.length) return { ihdr: ihdr!, idat };
    else return null;
  }
  return null;
}

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** Reverses one row's filter (PNG spec 9.2) into out[dst..dst+stride);
 * false on an unknown filter type. One loop per type, the first pixel
 * (no left neighbour) apart: a test per byte cost more than the rest of
 * the decode. On the first row "up" is 0: Up is None, Paeth is Sub. */
function unfilterRow(f: number, raw: Uint8Array, src: number, out: Uint8Array, dst: number, stride: number, bpp: number, first: boolean): boolean {
  const up = dst - stride;
  const n = Math.min(bpp, stride);
  if (f === 0 || (f === 2 && first)) {
    out.set(raw.subarray(src, src + stride), dst);
  } else if (f === 1 || (f === 4 && first)) {
    out.set(raw.subarray(src, src + n), dst);
    for (let x = n; x < stride; x++) out[dst + x] = raw[src + x]! + out[dst + x - bpp]!;
  } else if (f === 2) {
    for (let x = 0; x < stride; x++) out[dst + x] = raw[src + x]! + out[up + x]!;
  } else if (f === 3) {
    for (let x = 0; x < n; x++) out[dst + x] = raw[src + x]! + ((first ? 0 : out[up + x]!) >> 1);
    for (let x = n; x < stride; x++) out[dst + x] = raw[src + x]! + ((out[dst + x - bpp]! + (first ? 0 : out[up + x]!)) >> 1);
  } else if (f === 4) {
    for (let x = 0; x < n; x++) out[dst + x] = raw[src + x]! + out[up + x]!;
    for (let x = n; x < stride; x++) out[dst + x] = raw[src + x]! + paeth(out[dst + x - bpp]!, out[up + x]!, out[up + x - bpp]!);
  } else {
    return false;
  }
  return true;
}

function unfilter(raw: Uint8Array, out: Uint8Array, height: number, stride: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const src = y * (stride + 1);
    if (!unfilterRow(raw[src]!, raw, src + 1, out, y * stride, stride, bpp, y === 0)) return false;
  }
  return true;
}

/** The pixels of a plain 8-bit RGB(A) PNG, or null (use pngjs). */
export function readPlainPng(bytes: Buffer): PlainPixels | null {
  const chunks = plainChunks(bytes);
  if (!chunks) return null;
  const h = chunks.ihdr;
  const width = h.readUInt32BE(0), height = h.readUInt32BE(4);
  const depth = h[8], colorType = h[9];
  if (width === 0 || height === 0 || depth !== 8 || (colorType !== 2 && colorType !== 6) || h[10] !== 0 || h[11] !== 0 || h[12] !== 0) return null;
  const channels = colorType === 2 ? 3 : 4;
  const stride = width * channels;
  if (stride * height > 64 * 1024 * 1024) return null;
  const packed = chunks.idat.length === 1 ? chunks.idat[0]! : Buffer.concat(chunks.idat);
  const expected = (stride + 1) * height;
  let raw: Buffer;
  try {
    // One output chunk one byte larger than the expected data: zlib's 16 KB
    // default cost two more allocations and a concat per image (more
    // than the inflate itself); more data than expected still shows as a
    // second chunk, and a size mismatch goes to pngjs as before.
    const out = zlib.inflateSync(packed, { info: true, chunkSize: Math.max(64, expected + 1) }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    // Bytes after the end of the zlib stream: pngjs refuses the file, so
    // the file goes to pngjs (zlib itself would ignore them).
    if (out.engine.bytesWritten !== packed.length) return null;
    raw = out.buffer;
  } catch {
    return null;
  }
  if (raw.length !== expected) return null;
  const data = new Uint8Array(stride * height);
  return unfilter(raw, data, height, stride, channels) ? { width, height, data, channels } : null;
}
