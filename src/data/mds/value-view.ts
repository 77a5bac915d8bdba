// Decoded MDS values rendered for people and for JSON lines
// (`tce inspect-dataset`): bytes-like values become their length and
// sha256, images also their dimensions; 64-bit integers beyond JavaScript's
// safe range become decimal strings.
import { createHash } from 'node:crypto';
import { imageInfo } from '../image-info';
import type { MdsValue } from './encodings';
import type { JsonValue } from './python-json';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Only `json` columns hold plain objects; every other object value is one
 * of the tagged forms of encodings.ts. */
function isTagged(v: unknown, encoding: string): v is { kind: string } {
  return encoding.split(':')[0] !== 'json' && typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON-ready form of a value decoded from a column of this encoding. */
export function valueToJson(v: MdsValue, encoding: string): JsonValue {
  if (typeof v === 'bigint') return v.toString();
  if (!isTagged(v, encoding)) return v as JsonValue;
  const t = v as Exclude<MdsValue, string | number | bigint | JsonValue> | { kind: string };
  switch (t.kind) {
    case 'ndarray': { const a = t as Extract<MdsValue, { kind: 'ndarray' }>; return { dtype: a.dtype, shape: a.shape, data: a.data.map((x) => (typeof x === 'bigint' ? x.toString() : x)) }; }
    case 'image': {
      const im = t as Extract<MdsValue, { kind: 'image' }>;
      const info = imageInfo(im.bytes);
      return { len: im.bytes.length, sha256: sha(im.bytes), format: info?.format ?? im.encoding, width: info?.width ?? null, height: info?.height ?? null };
    }
    case 'pil': { const p = t as Extract<MdsValue, { kind: 'pil' }>; return { len: p.pixels.length, sha256: sha(p.pixels), mode: p.mode, width: p.width, height: p.height }; }
    case 'bytes': case 'pkl': { const o = t as Extract<MdsValue, { kind: 'bytes' | 'pkl' }>; return { len: o.bytes.length, sha256: sha(o.bytes) }; }
    case 'decimal': return (t as Extract<MdsValue, { kind: 'decimal' }>).text;
    default: return (t as Extract<MdsValue, { kind: 'list' }>).items.map((x) => valueToJson(x, encoding));
  }
}

/** One short line for a person. */
export function valueSummary(v: MdsValue, encoding: string): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (!isTagged(v, encoding)) { const s = JSON.stringify(v); return s.length > 80 ? s.slice(0, 77) + '...' : s; }
  const j = valueToJson(v, encoding) as Record<string, JsonValue>;
  switch ((v as { kind: string }).kind) {
    case 'image': return `${j.format} image ${j.width}x${j.height}, ${j.len} bytes`;
    case 'pil': return `pil ${j.mode} image ${j.width}x${j.height}, ${j.len} bytes of pixels`;
    case 'ndarray': { const s = JSON.stringify(j.data); return `ndarray ${j.dtype}[${(j.shape as number[]).join(',')}] ${s.length > 60 ? s.slice(0, 57) + '...' : s}`; }
    case 'bytes': case 'pkl': return `${(v as { kind: string }).kind} ${j.len} bytes`;
    case 'list': return `list of ${(valueToJson(v, encoding) as JsonValue[]).length} images`;
    default: return String(valueToJson(v, encoding));
  }
}
