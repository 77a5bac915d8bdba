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

const urlCache = new WeakMap<Sample, Map<number, string>>();
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

/** Nearest-neighbour downscale to at most `budget` pixels, keeping the
 * aspect ratio. Nearest keeps every colour exact (the fixture's simulated
 * vision counts palette colours); it is a bandwidth measure, not a resampler. */
export function downscaleToBudget(bytes: Uint8Array, mime: 'image/png' | 'image/jpeg', budget: number, sampleId = -1): { bytes: Uint8Array; mime: 'image/png' | 'image/jpeg'; width: number; height: number } {
  const img = decodeRgba(bytes, mime, sampleId);
  if (img.width * img.height <= budget) return { bytes, mime, width: img.width, height: img.height };
  const f = Math.sqrt(budget / (img.width * img.height));
  const w = Math.max(1, Math.floor(img.width * f));
  const h = Math.max(1, Math.floor(img.height * f));
  const out = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / h));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / w));
      const s = (sy * img.width + sx) * 4;
      const d = (y * w + x) * 4;
      out.data[d] = img.data[s]!; out.data[d + 1] = img.data[s + 1]!; out.data[d + 2] = img.data[s + 2]!; out.data[d + 3] = img.data[s + 3]!;
    }
  }
  return { bytes: PNG.sync.write(out), mime: 'image/png', width: w, height: h };
}

/** data:<mime>;base64,... of the sample's image, cached per sample and budget. */
export function imageDataUrl(sample: Sample, opts: { pixelBudget?: number } = {}): string {
  const budget = opts.pixelBudget ?? 0;
  if (budget !== 0 && (!Number.isInteger(budget) || budget < 1)) throw new TypeError(`imageDataUrl: pixelBudget must be a positive integer (got ${budget})`);
  let perSample = urlCache.get(sample);
  const hit = perSample?.get(budget);
  if (hit) return hit;
  const img = requireImage(sample);
  const sent = budget ? downscaleToBudget(img.bytes, img.mime, budget, sample.sampleId) : img;
  const url = `data:${sent.mime};base64,${Buffer.from(sent.bytes.buffer, sent.bytes.byteOffset, sent.bytes.byteLength).toString('base64')}`;
  if (!perSample) urlCache.set(sample, (perSample = new Map()));
  perSample.set(budget, url);
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
