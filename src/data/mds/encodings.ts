// Every MDS column encoding of mosaicml/streaming (see
// shared/research/mds_format.md section 5): its fixed size, a decoder from a
// view of the record bytes, and an encoder for what the writer supports.
// Decoders never copy bytes-like values: they return subarrays of the shard.
import { parsePythonJson, pyJsonDumps, type JsonValue } from './python-json';

/** Thrown by decoders; the reader adds file, shard, sample and column. */
export class MdsValueError extends Error {}

export const NDARRAY_DTYPES = ['uint8', 'int8', 'uint16', 'int16', 'float16', 'uint32', 'int32', 'float32', 'uint64', 'int64', 'float64'] as const;
export type NdDtype = (typeof NDARRAY_DTYPES)[number];
const DTYPE_CODE: Record<NdDtype, number> = { uint8: 8, int8: 9, uint16: 16, int16: 17, float16: 18, uint32: 32, int32: 33, float32: 34, uint64: 64, int64: 65, float64: 66 };
const CODE_DTYPE = new Map<number, NdDtype>(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as NdDtype]));
const ITEMSIZE: Record<NdDtype, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, float16: 2, uint32: 4, int32: 4, float32: 4, uint64: 8, int64: 8, float64: 8 };

export interface NdArray { kind: 'ndarray'; dtype: NdDtype; shape: number[]; /** row-major; bigint only for 64-bit ints beyond 2^53 */ data: Array<number | bigint> }
export interface ImageBytes { kind: 'image'; encoding: 'jpeg' | 'png'; bytes: Uint8Array }
export interface PilImage { kind: 'pil'; width: number; height: number; mode: string; pixels: Uint8Array }
export interface OpaqueBytes { kind: 'bytes' | 'pkl'; bytes: Uint8Array }
export interface DecimalText { kind: 'decimal'; text: string }
export interface ValueList { kind: 'list'; items: Array<ImageBytes | PilImage> }
export type MdsValue = string | number | bigint | JsonValue | NdArray | ImageBytes | PilImage | OpaqueBytes | DecimalText | ValueList;

export interface Codec {
  /** The encoding string as written in index.json. */
  encoding: string;
  /** Byte size when fixed (no header entry), else null. */
  size: number | null;
  decode(b: Uint8Array): MdsValue;
  encode(v: unknown): Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new MdsValueError('invalid UTF-8');
  }
}

function safeBig(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

function float16(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function toFloat16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity || a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -24) return sign;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  let m = Math.round((a / 2 ** e - 1) * 1024);
  if (m === 1024) { m = 0; e++; }
  return sign | ((e + 15) << 10) | m;
}

type Scalar = { read(d: DataView, o: number): number | bigint; write(d: DataView, o: number, v: number | bigint): void; size: number };
const SCALARS: Record<NdDtype, Scalar> = {
  uint8: { size: 1, read: (d, o) => d.getUint8(o), write: (d, o, v) => d.setUint8(o, Number(v)) },
  int8: { size: 1, read: (d, o) => d.getInt8(o), write: (d, o, v) => d.setInt8(o, Number(v)) },
  uint16: { size: 2, read: (d, o) => d.getUint16(o, true), write: (d, o, v) => d.setUint16(o, Number(v), true) },
  int16: { size: 2, read: (d, o) => d.getInt16(o, true), write: (d, o, v) => d.setInt16(o, Number(v), true) },
  float16: { size: 2, read: (d, o) => float16(d.getUint16(o, true)), write: (d, o, v) => d.setUint16(o, toFloat16(Number(v)), true) },
  uint32: { size: 4, read: (d, o) => d.getUint32(o, true), write: (d, o, v) => d.setUint32(o, Number(v), true) },
  int32: { size: 4, read: (d, o) => d.getInt32(o, true), write: (d, o, v) => d.setInt32(o, Number(v), true) },
  float32: { size: 4, read: (d, o) => d.getFloat32(o, true), write: (d, o, v) => d.setFloat32(o, Number(v), true) },
  uint64: { size: 8, read: (d, o) => safeBig(d.getBigUint64(o, true)), write: (d, o, v) => d.setBigUint64(o, BigInt(v), true) },
  int64: { size: 8, read: (d, o) => safeBig(d.getBigInt64(o, true)), write: (d, o, v) => d.setBigInt64(o, BigInt(v), true) },
  float64: { size: 8, read: (d, o) => d.getFloat64(o, true), write: (d, o, v) => d.setFloat64(o, Number(v), true) },
};

function scalarCodec(encoding: string, t: NdDtype): Codec {
  const s = SCALARS[t];
  return {
    encoding, size: s.size,
    decode(b) { return s.read(dv(b), 0); },
    encode(v) {
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new MdsValueError(`${encoding} expects a number, got ${typeof v}`);
      const out = new Uint8Array(s.size);
      s.write(dv(out), 0, v);
      return out;
    },
  };
}

function bytesOf(v: unknown, encoding: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new MdsValueError(`${encoding} expects bytes (Uint8Array), got ${typeof v}`);
}

function textCodec(encoding: string, decode: (s: string) => MdsValue, encode: (v: unknown) => string): Codec {
  return { encoding, size: null, decode: (b) => decode(decodeUtf8(b)), encode: (v) => utf8enc.encode(encode(v)) };
}

function sniffImage(b: Uint8Array, declared: 'jpeg' | 'png'): 'jpeg' | 'png' {
  // The reference writer stores raw bytes verbatim whatever the column says.
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  return declared;
}

/** Encoded image bytes, given raw or as a decoded ImageBytes value. */
function imageBytesOf(v: unknown, encoding: string): Uint8Array {
  return bytesOf(v !== null && typeof v === 'object' && (v as ImageBytes).kind === 'image' ? (v as ImageBytes).bytes : v, encoding);
}

function imageCodec(enc: 'jpeg' | 'png'): Codec {
  return { encoding: enc, size: null, decode: (b) => ({ kind: 'image', encoding: sniffImage(b, enc), bytes: b }), encode: (v) => imageBytesOf(v, enc) };
}

function decodePil(b: Uint8Array): PilImage {
  if (b.byteLength < 12) throw new MdsValueError(`pil value is ${b.byteLength} bytes, shorter than its 12-byte header`);
  const d = dv(b);
  const width = d.getUint32(0, true);
  const height = d.getUint32(4, true);
  const modeLen = d.getUint32(8, true);
  if (12 + modeLen > b.byteLength) throw new MdsValueError(`pil mode length ${modeLen} runs past the value (${b.byteLength} bytes)`);
  return { kind: 'pil', width, height, mode: decodeUtf8(b.subarray(12, 12 + modeLen)), pixels: b.subarray(12 + modeLen) };
}

function encodePil(v: unknown): Uint8Array {
  const p = v as PilImage;
  if (!p || p.kind !== 'pil') throw new MdsValueError('pil expects {kind:"pil", width, height, mode, pixels}');
  const mode = utf8enc.encode(p.mode);
  const out = new Uint8Array(12 + mode.length + p.pixels.length);
  const d = dv(out);
  d.setUint32(0, p.width, true); d.setUint32(4, p.height, true); d.setUint32(8, mode.length, true);
  out.set(mode, 12); out.set(p.pixels, 12 + mode.length);
  return out;
}

/** Splits `uint32 n, uint32 size[n], elem...` starting at `at`. */
function splitList(b: Uint8Array, at: number, what: string): Uint8Array[] {
  const d = dv(b);
  if (b.byteLength < at + 4) throw new MdsValueError(`${what} value too short for its element count`);
  const n = d.getUint32(at, true);
  let p = at + 4 + 4 * n;
  if (p > b.byteLength) throw new MdsValueError(`${what} declares ${n} elements; the size table runs past the value`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const sz = d.getUint32(at + 4 + 4 * i, true);
    if (p + sz > b.byteLength) throw new MdsValueError(`${what} element ${i} (${sz} bytes) runs past the value`);
    out.push(b.subarray(p, p + sz));
    p += sz;
  }
  if (p !== b.byteLength) throw new MdsValueError(`${what} elements add up to ${p} bytes, the value has ${b.byteLength}`);
  return out;
}

function joinList(parts: Uint8Array[], placeholder: boolean): Uint8Array {
  const head = (placeholder ? 8 : 4) + 4 * parts.length;
  const out = new Uint8Array(head + parts.reduce((a, p) => a + p.length, 0));
  const d = dv(out);
  let h = 0;
  if (placeholder) { d.setUint32(0, 0, true); h = 4; }
  d.setUint32(h, parts.length, true);
  let p = head;
  parts.forEach((part, i) => { d.setUint32(h + 4 + 4 * i, part.length, true); out.set(part, p); p += part.length; });
  return out;
}

function listCodec(encoding: string, elem: 'pil' | 'jpeg' | 'png', placeholder: boolean): Codec {
  const decodeElem = (b: Uint8Array): ImageBytes | PilImage => (elem === 'pil' ? decodePil(b) : { kind: 'image', encoding: sniffImage(b, elem), bytes: b });
  return {
    encoding, size: null,
    decode(b) {
      const items = splitList(b, placeholder ? 4 : 0, encoding).map(decodeElem);
      if (!placeholder && items.length === 0) throw new MdsValueError(`${encoding} value holds no images`);
      return { kind: 'list', items };
    },
    encode(v) {
      if (!Array.isArray(v)) throw new MdsValueError(`${encoding} expects an array`);
      return joinList(v.map((x) => (elem === 'pil' ? encodePil(x) : imageBytesOf(x, encoding))), placeholder);
    },
  };
}

function ndarrayCodec(encoding: string, dtype: NdDtype | null, shape: number[] | null): Codec {
  const size = dtype && shape ? shape.reduce((a, b) => a * b, 1) * ITEMSIZE[dtype] : null;
  return {
    encoding, size,
    decode(b) {
      let p = 0;
      let t = dtype;
      if (!t) {
        if (b.byteLength < 1) throw new MdsValueError('ndarray value is empty (no dtype byte)');
        t = CODE_DTYPE.get(b[0]!) ?? null;
        if (!t) throw new MdsValueError(`ndarray dtype code ${b[0]} is not one of ${[...CODE_DTYPE.keys()].join(', ')}`);
        p = 1;
      }
      let sh = shape;
      if (!sh) {
        if (b.byteLength < p + 1) throw new MdsValueError('ndarray value has no shape byte');
        const ndim = b[p]! >> 2;
        const w = 2 ** (b[p]! & 3);
        p += 1;
        if (b.byteLength < p + ndim * w) throw new MdsValueError(`ndarray shape (${ndim} dims) runs past the value`);
        const d = dv(b);
        sh = [];
        for (let i = 0; i < ndim; i++, p += w) sh.push(w === 1 ? d.getUint8(p) : w === 2 ? d.getUint16(p, true) : w === 4 ? d.getUint32(p, true) : Number(d.getBigUint64(p, true)));
      }
      const isz = ITEMSIZE[t];
      const count = sh.reduce((a, x) => a * x, 1);
      if (b.byteLength - p !== count * isz) throw new MdsValueError(`ndarray ${t}[${sh.join(',')}] needs ${count * isz} value bytes, found ${b.byteLength - p}`);
      const s = SCALARS[t];
      const d = dv(b);
      const data = new Array<number | bigint>(count);
      for (let i = 0; i < count; i++) data[i] = s.read(d, p + i * isz);
      return { kind: 'ndarray', dtype: t, shape: sh, data };
    },
    encode(v) {
      const a = v as NdArray;
      if (!a || a.kind !== 'ndarray') throw new MdsValueError(`${encoding} expects {kind:"ndarray", dtype, shape, data}`);
      if (dtype && a.dtype !== dtype) throw new MdsValueError(`${encoding} expects dtype ${dtype}, got ${a.dtype}`);
      if (shape && a.shape.join(',') !== shape.join(',')) throw new MdsValueError(`${encoding} expects shape ${shape.join(',')}, got ${a.shape.join(',')}`);
      const count = a.shape.reduce((x, y) => x * y, 1);
      if (a.shape.length === 0 || count === 0) throw new MdsValueError('ndarray must have at least one dimension and one element');
      if (a.data.length !== count) throw new MdsValueError(`ndarray shape ${a.shape.join(',')} needs ${count} values, got ${a.data.length}`);
      const maxDim = Math.max(...a.shape);
      const shapeCode = maxDim < 256 ? 0 : maxDim < 65536 ? 1 : maxDim < 2 ** 32 ? 2 : 3;
      const head = (dtype ? 0 : 1) + (shape ? 0 : 1 + a.shape.length * 2 ** shapeCode);
      const isz = ITEMSIZE[a.dtype];
      const out = new Uint8Array(head + count * isz);
      const d = dv(out);
      let p = 0;
      if (!dtype) out[p++] = DTYPE_CODE[a.dtype];
      if (!shape) {
        out[p++] = (a.shape.length << 2) | shapeCode;
        for (const x of a.shape) {
          if (shapeCode === 0) d.setUint8(p, x); else if (shapeCode === 1) d.setUint16(p, x, true); else if (shapeCode === 2) d.setUint32(p, x, true); else d.setBigUint64(p, BigInt(x), true);
          p += 2 ** shapeCode;
        }
      }
      const s = SCALARS[a.dtype];
      for (let i = 0; i < count; i++) s.write(d, p + i * isz, a.data[i]!);
      return out;
    },
  };
}

function parseNdarray(encoding: string): Codec {
  const [, dt, sh] = encoding.split(':');
  if (dt === undefined || dt === '') {
    if (sh !== undefined) throw new MdsValueError(`encoding '${encoding}': a static shape needs a static dtype`);
    return ndarrayCodec(encoding, null, null);
  }
  if (!(NDARRAY_DTYPES as readonly string[]).includes(dt)) throw new MdsValueError(`encoding '${encoding}': dtype '${dt}' is not one of ${NDARRAY_DTYPES.join(', ')}`);
  let shape: number[] | null = null;
  if (sh !== undefined) {
    shape = sh.split(',').map(Number);
    if (shape.some((x) => !Number.isInteger(x) || x <= 0)) throw new MdsValueError(`encoding '${encoding}': shape '${sh}' is not a list of positive integers`);
  }
  return ndarrayCodec(encoding, dt as NdDtype, shape);
}

const strIntRe = /^[+-]?\d+$/;
const pyFloatText = (t: string): number => {
  const l = t.trim().toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  if (l === 'nan' || l === '-nan' || l === '+nan') return NaN;
  const n = Number(l);
  if (l === '' || Number.isNaN(n)) throw new MdsValueError(`str_float value '${t.slice(0, 40)}' is not a number`);
  return n;
};

/** The codec for one encoding string, or an error naming the known ones. */
export function codecFor(encoding: string): Codec {
  const base = encoding.split(':')[0]!;
  if ((NDARRAY_DTYPES as readonly string[]).includes(encoding)) return scalarCodec(encoding, encoding as NdDtype);
  switch (base) {
    case 'bytes': return { encoding, size: null, decode: (b) => ({ kind: 'bytes', bytes: b }), encode: (v) => bytesOf(v, encoding) };
    case 'pkl': return { encoding, size: null, decode: (b) => ({ kind: 'pkl', bytes: b }), encode: (v) => bytesOf(v, encoding) };
    case 'str': return textCodec(encoding, (s) => s, (v) => { if (typeof v !== 'string') throw new MdsValueError('str expects a string'); return v; });
    case 'int': return { ...scalarCodec(encoding, 'int64') };
    case 'str_int': return textCodec(encoding, (s) => { if (!strIntRe.test(s)) throw new MdsValueError(`str_int value '${s.slice(0, 40)}' is not an integer`); return safeBig(BigInt(s)); }, (v) => String(v));
    case 'str_float': return textCodec(encoding, pyFloatText, (v) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : pyJsonDumps(Number(v))));
    case 'str_decimal': return textCodec(encoding, (s) => ({ kind: 'decimal', text: s }), (v) => (typeof v === 'object' && v && 'text' in v ? String((v as DecimalText).text) : String(v)));
    case 'json': return textCodec(encoding, (s) => { try { return parsePythonJson(s); } catch (e) { throw new MdsValueError(`json value is not valid JSON: ${(e as Error).message}`); } }, (v) => pyJsonDumps(v as JsonValue));
    case 'ndarray': return parseNdarray(encoding);
    case 'jpeg': return imageCodec('jpeg');
    case 'png': return imageCodec('png');
    case 'pil': return { encoding, size: null, decode: decodePil, encode: encodePil };
    case 'list[pil]': return listCodec(encoding, 'pil', true);
    case 'list[jpeg]': return listCodec(encoding, 'jpeg', true);
    case 'list[png]': return listCodec(encoding, 'png', true);
    case 'jpeg_array': case 'jpegarray': return listCodec(encoding, 'jpeg', false);
    default:
      throw new MdsValueError(`unknown encoding '${encoding}' (known: bytes, str, int, ${NDARRAY_DTYPES.join(', ')}, str_int, str_float, str_decimal, ndarray[:dtype[:shape]], json, pkl, jpeg, png, pil, list[pil], list[jpeg], list[png], jpeg_array)`);
  }
}
