// The simulated model's eyes: decode the image the request carries and count
// pixels of each cue colour (src/domain/scene-cues.ts). This is the only way
// the simulator learns about a scene: there is no side channel to ground truth.
import fs from 'node:fs';
import path from 'node:path';
import { hash as oneShotHash } from 'node:crypto';
import type * as PngJs from 'pngjs';
import type * as JpegJs from 'jpeg-js';
import { BoundedCache } from './bounded-cache';
import { readPlainPng } from './png-plain';
import { CUES, CUE_COLORS, CUE_MIN_PIXELS, type Cue } from '../../domain/scene-cues';

export interface Sight {
  /** Content hash of the image bytes (the key of vLLM's mm caches too). */
  hash: string;
  width: number;
  height: number;
  /** Cues with at least CUE_MIN_PIXELS pixels of their colour. */
  seen: ReadonlySet<Cue>;
  /** LLM tokens the image costs (Qwen3-VL: one per 32x32 px after smart_resize). */
  imageTokens: number;
}

export class ImageError extends Error {}

const cache = new BoundedCache<string, Sight>(20_000);

/** Qwen2-VL smart_resize with factor 32 and Qwen3-VL's pixel bounds. */
export function qwenImageTokens(width: number, height: number): number {
  const f = 32, minPx = 65_536, maxPx = 16_777_216;
  let h = Math.max(f, Math.round(height / f) * f);
  let w = Math.max(f, Math.round(width / f) * f);
  if (h * w > maxPx) {
    const beta = Math.sqrt((height * width) / maxPx);
    h = Math.max(f, Math.floor(height / beta / f) * f);
    w = Math.max(f, Math.floor(width / beta / f) * f);
  } else if (h * w < minPx) {
    const beta = Math.sqrt(minPx / (height * width));
    h = Math.ceil((height * beta) / f) * f;
    w = Math.ceil((width * beta) / f) * f;
  }
  return (h / f) * (w / f);
}

/** The palette entry a colour counts for (the first within `tolerance`
 * per channel), or -1. */
function cueOf(r: number, g: number, b: number, palette: ReadonlyArray<readonly [number, number, number]>, tolerance: number): number {
  for (let k = 0; k < palette.length; k++) {
    const p = palette[k]!;
    if (Math.abs(r - p[0]) <= tolerance && Math.abs(g - p[1]) <= tolerance && Math.abs(b - p[2]) <= tolerance) return k;
  }
  return -1;
}

function countCues(data: Uint8Array, channels: number, tolerance: number): Set<Cue> {
  const counts = new Array<number>(CUES.length).fill(0);
  const palette = CUES.map((c) => CUE_COLORS[c]);
  // Scenes are mostly runs of one colour: a pixel like the previous one
  // counts for the same cue without another palette search.
  let pr = -1, pg = -1, pb = -1, cue = -1;
  for (let i = 0; i + 2 < data.length; i += channels) {
    const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!;
    if (r !== pr || g !== pg || b !== pb) {
      pr = r; pg = g; pb = b;
      cue = cueOf(r, g, b, palette, tolerance);
    }
    if (cue >= 0) counts[cue]!++;
  }
  const seen = new Set<Cue>();
  CUES.forEach((c, k) => { if (counts[k]! >= CUE_MIN_PIXELS) seen.add(c); });
  return seen;
}

// The general decoders load on first use (~25 ms of CPU): most PNGs are
// plain (readPlainPng), and most fake `vllm` servers of the tests, each a
// process of its own, never see an image.
let pngjs: typeof PngJs | undefined;
let jpegJs: typeof JpegJs | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadPngjs = (): typeof PngJs => (pngjs ??= require('pngjs') as typeof PngJs);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadJpegJs = (): typeof JpegJs => (jpegJs ??= require('jpeg-js') as typeof JpegJs);

function decode(bytes: Buffer, what: string): { width: number; height: number; data: Uint8Array; channels: number; tolerance: number } {
  try {
    if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50) {
      // The common plain file without pngjs; anything else (and every error
      // message) stays pngjs's.
      const plain = readPlainPng(bytes);
      if (plain) return { ...plain, tolerance: 0 };
      const png = loadPngjs().PNG.sync.read(bytes);
      return { width: png.width, height: png.height, data: png.data, channels: 4, tolerance: 0 };
    }
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8) {
      const img = loadJpegJs().decode(bytes, { useTArray: true, formatAsRGBA: true });
      // JPEG is lossy: palette colours come back within a few levels.
      return { width: img.width, height: img.height, data: img.data, channels: 4, tolerance: 14 };
    }
  } catch (e) {
    throw new ImageError(`cannot identify image file ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw new ImageError(`cannot identify image file ${what}: not PNG or JPEG`);
}

// One-shot hashes: a Hash object per image cost more than the digest of a
// fixture-sized image (the same hex either way).
const contentHash = (bytes: Buffer): string => oneShotHash('sha1', bytes, 'hex');

function look(bytes: Buffer, hash: string, what: string): Sight {
  const { width, height, data, channels, tolerance } = decode(bytes, what);
  return { hash, width, height, seen: countCues(data, channels, tolerance), imageTokens: qwenImageTokens(width, height) };
}

/** pathlib.PurePosixPath's normal form: repeated and trailing slashes and
 * "." parts dropped; ".." and symlinks kept (nothing is resolved). */
export function purePosixPath(p: string): string {
  const abs = p.startsWith('/');
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  return (abs ? '/' : '') + parts.join('/') || (abs ? '/' : '.');
}

/** MediaConnector.__init__: the flag must name an existing directory, or the
 * server does not start. */
export function checkMediaRoot(flag: string): void {
  const st = fs.statSync(flag, { throwIfNoEntry: false });
  if (!st) throw new Error(`Invalid \`--allowed-local-media-path\`: The path ${purePosixPath(flag)} does not exist.`);
  if (!st.isDirectory()) throw new Error(`Invalid \`--allowed-local-media-path\`: The path ${purePosixPath(flag)} must be a directory.`);
}

/** Path.resolve() (strict=False): symlinks resolved as far as the path exists. */
function resolveLoose(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const dir = path.dirname(abs);
    return dir === abs ? abs : path.join(resolveLoose(dir), path.basename(abs));
  }
}

/** MediaConnector._load_file_url, as in the vLLM releases that keep the flag
 * unresolved (vllm/multimodal/utils.py up to the move to
 * vllm/multimodal/media/connector.py): the file is resolved, the flag is
 * not, and the flag must be one of the resolved file's parents. A relative
 * or symlinked flag therefore never matches. (Newer main resolves the flag;
 * the stricter rule is the one every release accepts.) */
export function localFile(url: string, allowedLocalMediaPath: string | undefined): string {
  if (!allowedLocalMediaPath) throw new ImageError('Cannot load local files without `--allowed-local-media-path`.');
  const u = new URL(url);
  const filepath = decodeURIComponent(u.host + u.pathname);
  const resolved = resolveLoose(filepath);
  const root = purePosixPath(allowedLocalMediaPath);
  let isParent = false;
  for (let d = path.dirname(resolved); ; d = path.dirname(d)) {
    if (d === root) isParent = true;
    if (d === path.dirname(d)) break;
  }
  if (!isParent) throw new ImageError(`The file path ${purePosixPath(filepath)} must be a subpath of \`--allowed-local-media-path ${root}\`.`);
  return resolved;
}

/** Sees the image at `url` (data URL or file://). File URLs are checked as
 * vLLM checks them (localFile). */
export function seeImage(url: string, allowedLocalMediaPath?: string): Sight {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    if (comma < 0 || !url.slice(0, comma).endsWith(';base64')) throw new ImageError('image data URL must be base64-encoded');
    // The cache is keyed by the base64 text (no decode on a hit); the image's
    // identity, which seeds the simulated answer and names it in the mm
    // cache, is its bytes' hash, as for a file: vLLM hashes the image, not
    // how it was sent, so the transport must not change an answer.
    const key = oneShotHash('sha1', url, 'hex');
    const hit = cache.get(key);
    if (hit) return hit;
    const bytes = Buffer.from(url.slice(comma + 1), 'base64');
    return cache.set(key, look(bytes, contentHash(bytes), 'in data URL'));
  }
  if (url.startsWith('file://')) {
    const abs = localFile(url, allowedLocalMediaPath);
    const stat = fs.statSync(abs, { throwIfNoEntry: false });
    if (!stat) throw new ImageError(`No such file: ${abs}`);
    const key = `file\u0000${abs}\u0000${stat.mtimeMs}\u0000${stat.size}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const bytes = fs.readFileSync(abs);
    return cache.set(key, look(bytes, contentHash(bytes), abs));
  }
  throw new ImageError(`The URL must be either a HTTP, data or file URL (got ${url.slice(0, 40)})`);
}
