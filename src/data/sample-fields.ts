// One validator from source values to the Sample type, shared by every
// importer (MDS, JSONL, self_consistency.db). Sources differ in how a value
// arrives (MDS ndarray, JSON array, JSON text; "null" sentinel strings, as
// MDS `str` columns cannot hold None); the checks and the Sample are the same.
import { isLatAction, isLongAction, isScene, LAT_ACTIONS, LONG_ACTIONS, SCENES } from '../domain/enums';
import type { Sample } from '../domain/sample';
import type { NdArray, ImageBytes, OpaqueBytes, PilImage } from './mds/encodings';
import { PNG } from 'pngjs';
import { TceError } from '../util/errors';
import { escapeControl } from '../util/text';

export const SAMPLE_FIELDS = ['sample_id', 'chum_uri', 'scene_type_gt', 'long_action_gt', 'lat_action_gt', 'fine_class', 'odd_label', 'location', 'waypoints_gt', 'image'] as const;
export type SampleField = (typeof SAMPLE_FIELDS)[number];

/** A bad value; importers add the source and row. */
export class FieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

const NULLISH = new Set(['', 'null', 'None', 'NULL']);

function shown(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  const s = typeof v === 'bigint' ? `${v}` : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export function toSampleId(v: unknown, field = 'sample_id'): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new FieldError(field, `expected a non-negative integer, found ${shown(v)}`);
  return n;
}

export function toText(v: unknown, field: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new FieldError(field, `expected a string, found ${shown(v)}`);
  return NULLISH.has(v) ? null : v;
}

export function toScene(v: unknown, field: string): Sample['sceneGt'] {
  const s = toText(v, field);
  if (s === null) return null;
  if (!isScene(s)) throw new FieldError(field, `'${escapeControl(s, { oneLine: true })}' is not a scene (${SCENES.join(', ')}, or null)`);
  return s;
}

/** Actions keep the enum's literal 'null' ("no action"); only a missing
 * value (SQL NULL, JSON null, absent) becomes null. */
export function toLongAction(v: unknown, field: string): Sample['longActionGt'] {
  if (v === null || v === undefined) return null;
  if (!isLongAction(v)) throw new FieldError(field, `${shown(v)} is not a longitudinal action (${LONG_ACTIONS.join(', ')})`);
  return v;
}

export function toLatAction(v: unknown, field: string): Sample['latActionGt'] {
  if (v === null || v === undefined) return null;
  if (!isLatAction(v)) throw new FieldError(field, `${shown(v)} is not a lateral action (${LAT_ACTIONS.join(', ')})`);
  return v;
}

export function toWaypoints(v: unknown, field: string): Array<[number, number]> | null {
  if (v === null || v === undefined) return null;
  let pairs: unknown = v;
  if (typeof v === 'string') {
    if (NULLISH.has(v)) return null;
    try {
      pairs = JSON.parse(v);
    } catch {
      throw new FieldError(field, `expected JSON [[x, y], ...], found ${shown(v)}`);
    }
  } else if (typeof v === 'object' && (v as NdArray).kind === 'ndarray') {
    const a = v as NdArray;
    if (a.shape.length !== 2 || a.shape[1] !== 2) throw new FieldError(field, `expected an ndarray of shape (N, 2), found shape (${a.shape.join(', ')})`);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < a.shape[0]!; i++) {
      const p: [number, number] = [Number(a.data[2 * i]), Number(a.data[2 * i + 1])];
      if (!p.every(Number.isFinite)) throw new FieldError(field, `waypoint ${i} is [${p.join(', ')}]: expected finite numbers`);
      out.push(p);
    }
    return out;
  }
  if (!Array.isArray(pairs) || !pairs.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
    throw new FieldError(field, `expected [[x, y], ...] with finite numbers, found ${shown(v)}`);
  }
  return pairs as Array<[number, number]>;
}

export function sniffMime(b: Uint8Array): 'image/png' | 'image/jpeg' | null {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  return null;
}

function pilToPng(p: PilImage, field: string): Uint8Array {
  const channels = p.mode === 'RGB' ? 3 : p.mode === 'RGBA' ? 4 : p.mode === 'L' ? 1 : 0;
  if (!channels) throw new FieldError(field, `pil image mode '${p.mode}' is not supported (RGB, RGBA, L)`);
  if (p.pixels.length !== p.width * p.height * channels) throw new FieldError(field, `pil ${p.mode} ${p.width}x${p.height} needs ${p.width * p.height * channels} bytes, found ${p.pixels.length}`);
  const png = new PNG({ width: p.width, height: p.height });
  for (let i = 0; i < p.width * p.height; i++) {
    const s = p.pixels.subarray(i * channels, i * channels + channels);
    png.data[i * 4] = s[0]!;
    png.data[i * 4 + 1] = channels === 1 ? s[0]! : s[1]!;
    png.data[i * 4 + 2] = channels === 1 ? s[0]! : s[2]!;
    png.data[i * 4 + 3] = channels === 4 ? s[3]! : 255;
  }
  return PNG.sync.write(png);
}

/** Encoded image bytes from an MDS value or raw bytes; PNG or JPEG only. */
export function toImage(v: unknown, field = 'image'): { image: Uint8Array; imageMime: 'image/png' | 'image/jpeg' } | null {
  if (v === null || v === undefined) return null;
  let bytes: Uint8Array;
  if (v instanceof Uint8Array) bytes = v;
  else if (typeof v === 'object' && ((v as ImageBytes).kind === 'image' || (v as OpaqueBytes).kind === 'bytes')) bytes = (v as ImageBytes).bytes;
  else if (typeof v === 'object' && (v as PilImage).kind === 'pil') bytes = pilToPng(v as PilImage, field);
  else throw new FieldError(field, `expected image bytes (png, jpeg, pil or bytes column), found ${shown(v)}`);
  const mime = sniffMime(bytes);
  if (!mime) throw new FieldError(field, `${bytes.length} bytes that are neither PNG nor JPEG`);
  return { image: bytes, imageMime: mime };
}

/** Builds a validated Sample from per-field source values (absent = undefined). */
export function sampleFromFields(v: Partial<Record<SampleField, unknown>>): Sample {
  const img = toImage(v.image);
  return {
    sampleId: toSampleId(v.sample_id),
    chumUri: toText(v.chum_uri, 'chum_uri'),
    sceneGt: toScene(v.scene_type_gt, 'scene_type_gt'),
    longActionGt: toLongAction(v.long_action_gt, 'long_action_gt'),
    latActionGt: toLatAction(v.lat_action_gt, 'lat_action_gt'),
    fineClass: toText(v.fine_class, 'fine_class'),
    oddLabel: toText(v.odd_label, 'odd_label'),
    location: toText(v.location, 'location'),
    waypointsGt: toWaypoints(v.waypoints_gt, 'waypoints_gt'),
    image: img?.image ?? null,
    imageMime: img?.imageMime ?? null,
  };
}

/** Fails on a repeated sample_id, naming both rows. */
export function checkUniqueIds(samples: ReadonlyArray<Pick<Sample, 'sampleId'>>, source: string, rowName = 'row'): void {
  const seen = new Map<number, number>();
  samples.forEach((s, i) => {
    const prev = seen.get(s.sampleId);
    if (prev !== undefined) throw new TceError('DATA_ROW', `${source}: ${rowName} ${i}, field 'sample_id': ${s.sampleId} repeats ${rowName} ${prev}`, 'every sample needs its own sample_id');
    seen.set(s.sampleId, i);
  });
}
