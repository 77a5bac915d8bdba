// A sample's image as it travels to a model server: an inline data URL, or
// a file:// URL under a folder the server may read (vLLM's
// --allowed-local-media-path). The optional pixel budget shrinks big images
// before sending, because vLLM's image preprocessing is CPU-bound.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
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

/** Writes each sample's image to `dir/<sample_id>.<png|jpg>` (skipping files
 * already there with the same bytes) and returns sample_id -> file:// URL,
 * for servers started with that folder as their allowed local media path. */
export function materializeImages(samples: Sample[], dir: string): Map<number, string> {
  fs.mkdirSync(dir, { recursive: true });
  const out = new Map<number, string>();
  for (const s of samples) {
    const img = requireImage(s);
    const file = path.resolve(dir, `${s.sampleId}.${img.mime === 'image/png' ? 'png' : 'jpg'}`);
    let same = false;
    try {
      same = fs.statSync(file).size === img.bytes.length && fs.readFileSync(file).equals(img.bytes);
    } catch {
      same = false;
    }
    if (!same) fs.writeFileSync(file, img.bytes);
    out.set(s.sampleId, pathToFileURL(file).href);
  }
  return out;
}
