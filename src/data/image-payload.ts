// A sample's image as it travels to a model server: an inline data URL, or
// a file:// URL under a folder the server may read (vLLM's
// --allowed-local-media-path). The optional pixel budget shrinks big images
// before sending, because vLLM's image preprocessing is CPU-bound.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type { Sample } from '../domain/sample';
import { TceError } from '../util/errors';

const shaCache = new WeakMap<Sample, string>();

function requireImage(sample: Sample): { bytes: Uint8Array; mime: 'image/png' | 'image/jpeg' } {
  if (!sample.image || !sample.imageMime) throw new TceError('NO_IMAGE', `sample ${sample.sampleId} has no image`, 'images come from the dataset (MDS or JSONL); self_consistency.db rows carry none');
  return { bytes: sample.image, mime: sample.imageMime };
}

function decodeRgba(bytes: Uint8Array, mime: string, sampleId: number): { width: number; height: number; data: Uint8Array } {
  try {
    if (mime === 'image/png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: j.width, height: j.height, data: j.data };
  } catch (e) {
    throw new TceError('IMAGE_DECODE', `sample ${sampleId}: cannot decode its ${mime} image (${(e as Error).message})`);
  }
}

export type Resample = 'area' | 'nearest';

/** dataset.imageResample, or its default for the data source. */
export function resampleOf(d: { source: string; imageResample?: Resample | undefined }): Resample {
  return d.imageResample ?? (d.source === 'fixture' ? 'nearest' : 'area');
}

/** Each output pixel is the mean of the source box it covers (a box
 * filter): a photo shrunk this way keeps its detail instead of aliasing. */
function areaPixel(img: { width: number; height: number; data: Uint8Array }, w: number, h: number, x: number, y: number, out: Uint8Array, d: number): void {
  const x0 = Math.floor((x * img.width) / w), x1 = Math.max(x0 + 1, Math.floor(((x + 1) * img.width) / w));
  const y0 = Math.floor((y * img.height) / h), y1 = Math.max(y0 + 1, Math.floor(((y + 1) * img.height) / h));
  let r = 0, g = 0, b = 0, a = 0;
  for (let sy = y0; sy < y1; sy++) {
    for (let sx = x0; sx < x1; sx++) {
      const s = (sy * img.width + sx) * 4;
      r += img.data[s]!; g += img.data[s + 1]!; b += img.data[s + 2]!; a += img.data[s + 3]!;
    }
  }
  const n = (x1 - x0) * (y1 - y0);
  out[d] = Math.round(r / n); out[d + 1] = Math.round(g / n); out[d + 2] = Math.round(b / n); out[d + 3] = Math.round(a / n);
}

function nearestPixel(img: { width: number; height: number; data: Uint8Array }, w: number, h: number, x: number, y: number, out: Uint8Array, d: number): void {
  const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / h));
  const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / w));
  const s = (sy * img.width + sx) * 4;
  out[d] = img.data[s]!; out[d + 1] = img.data[s + 1]!; out[d + 2] = img.data[s + 2]!; out[d + 3] = img.data[s + 3]!;
}

/** Downscale to at most `budget` pixels, keeping the aspect ratio: by area
 * averaging (photos), or nearest neighbour, which keeps every colour exact
 * (the synthetic fixture's simulated vision counts palette colours). A JPEG
 * stays a JPEG (quality 90), a PNG a PNG. */
export function downscaleToBudget(bytes: Uint8Array, mime: 'image/png' | 'image/jpeg', budget: number, sampleId = -1, resample: Resample = 'area'): { bytes: Uint8Array; mime: 'image/png' | 'image/jpeg'; width: number; height: number } {
  const img = decodeRgba(bytes, mime, sampleId);
  if (img.width * img.height <= budget) return { bytes, mime, width: img.width, height: img.height };
  const f = Math.sqrt(budget / (img.width * img.height));
  const w = Math.max(1, Math.floor(img.width * f));
  const h = Math.max(1, Math.floor(img.height * f));
  const data = new Uint8Array(w * h * 4);
  const pixel = resample === 'area' ? areaPixel : nearestPixel;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pixel(img, w, h, x, y, data, (y * w + x) * 4);
  if (mime === 'image/jpeg') return { bytes: jpeg.encode({ width: w, height: h, data }, 90).data, mime, width: w, height: h };
  const out = new PNG({ width: w, height: h });
  out.data.set(data);
  return { bytes: PNG.sync.write(out), mime: 'image/png', width: w, height: h };
}

/** Data URLs kept for reuse (a sample's conditions send the same image),
 * bounded by their total size: real dashcam JPEGs for 8,613 samples would
 * otherwise fill the heap. Least recently used go first. */
class UrlCache {
  private readonly map = new Map<string, { url: string }>();
  private readonly ids = new WeakMap<Sample, number>();
  private nextId = 0;
  private bytes = 0;
  maxBytes = 256 * 1024 * 1024;

  private key(s: Sample, variant: string): string {
    let id = this.ids.get(s);
    if (id === undefined) this.ids.set(s, (id = this.nextId++));
    return `${id}|${variant}`;
  }

  get(s: Sample, variant: string): string | undefined {
    const k = this.key(s, variant);
    const hit = this.map.get(k);
    if (!hit) return undefined;
    this.map.delete(k);
    this.map.set(k, hit);
    return hit.url;
  }

  set(s: Sample, variant: string, url: string): void {
    const k = this.key(s, variant);
    const old = this.map.get(k);
    if (old) { this.bytes -= old.url.length; this.map.delete(k); }
    this.map.set(k, { url });
    this.bytes += url.length;
    for (const [key, v] of this.map) {
      if (this.bytes <= this.maxBytes || this.map.size <= 1) break;
      this.map.delete(key);
      this.bytes -= v.url.length;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.map.size, bytes: this.bytes };
  }
}

const urlCache = new UrlCache();

/** Caps the data-URL cache (dataset.imageCacheMB). */
export function setImageCacheBytes(n: number): void {
  urlCache.maxBytes = n;
}

export function imageCacheSize(): { entries: number; bytes: number } {
  return urlCache.size;
}

/** data:<mime>;base64,... of the sample's image, cached (bounded) per sample, budget and resampling. */
export function imageDataUrl(sample: Sample, opts: { pixelBudget?: number; resample?: Resample } = {}): string {
  const budget = opts.pixelBudget ?? 0;
  if (budget !== 0 && (!Number.isInteger(budget) || budget < 1)) throw new TypeError(`imageDataUrl: pixelBudget must be a positive integer (got ${budget})`);
  const resample = opts.resample ?? 'area';
  const variant = `${budget}|${resample}`;
  const hit = urlCache.get(sample, variant);
  if (hit) return hit;
  const img = requireImage(sample);
  const sent = budget ? downscaleToBudget(img.bytes, img.mime, budget, sample.sampleId, resample) : img;
  const url = `data:${sent.mime};base64,${Buffer.from(sent.bytes.buffer, sent.bytes.byteOffset, sent.bytes.byteLength).toString('base64')}`;
  urlCache.set(sample, variant, url);
  return url;
}

/** sha256 (hex) of the image bytes as stored. */
export function imageSha256(sample: Sample): string {
  const hit = shaCache.get(sample);
  if (hit) return hit;
  const sha = createHash('sha256').update(requireImage(sample).bytes).digest('hex');
  shaCache.set(sample, sha);
  return sha;
}

/** The media folder must be a real folder: a symlink there could point our
 * writes anywhere. */
function ensureMediaDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new TceError('MEDIA_DIR', `${dir}: is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; image files are written only into a real folder`, 'point backend.vllm.allowedLocalMediaPath at a folder (tce writes into its tce-images/ subfolder)');
}

/** True when `file` is a regular file (not a link) holding exactly `bytes`. */
function holdsBytes(file: string, bytes: Uint8Array): boolean {
  try {
    const st = fs.lstatSync(file);
    return st.isFile() && st.size === bytes.length && fs.readFileSync(file).equals(bytes);
  } catch {
    return false;
  }
}

/** Creates a new temporary file (exclusive, never through a link) and
 * renames it over `file`: a link planted at `file` is replaced, its target
 * left untouched, and a reader never sees a half-written image. */
function writeByRename(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  try {
    fs.writeFileSync(fd, bytes);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes each sample's image to `dir/<sha256>.<png|jpg>` and returns
 * sample_id -> file:// URL, for servers started with that folder as their
 * allowed local media path. Files are named by content, so runs sharing the
 * folder never replace each other's images; a file already there with the
 * right bytes is reused, anything else at that name is replaced by rename. */
export function materializeImages(samples: Sample[], dir: string): Map<number, string> {
  ensureMediaDir(dir);
  const out = new Map<number, string>();
  for (const s of samples) {
    const img = requireImage(s);
    const file = path.resolve(dir, `${imageSha256(s)}.${img.mime === 'image/png' ? 'png' : 'jpg'}`);
    try {
      if (!holdsBytes(file, img.bytes)) writeByRename(file, img.bytes);
    } catch (e) {
      throw new TceError('MEDIA_WRITE', `${file}: cannot write sample ${s.sampleId}'s image: ${(e as Error).message}`, 'image file mode needs a writable media folder (backend.vllm.allowedLocalMediaPath)');
    }
    out.set(s.sampleId, pathToFileURL(file).href);
  }
  return out;
}
