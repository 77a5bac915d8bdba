// How a suite shows images to the model: inline data URLs, or files the
// server may read (dataset.imageMode "file"); and how stored requests name
// them.
import type { Config } from '../config/schema';
import type { Sample } from '../domain/sample';
import { imageDataUrl, imageSha256, materializeImages, resampleOf, setImageCacheBytes } from '../data/image-payload';
import { mediaFolder } from '../config/media-folder';

export interface SampleImage {
  url: string;
  sha: string | null;
}

export class SuiteImages {
  private readonly fileUrls: Map<number, string> | null;
  private readonly shaCache = new Map<number, string | null>();

  constructor(samples: Sample[], private readonly config: Config) {
    const c = config;
    setImageCacheBytes(c.dataset.imageCacheMB * 1024 * 1024);
    this.fileUrls = c.dataset.imageMode === 'file' ? materializeImages(samples, mediaFolder(c)) : null;
  }

  image(s: Sample): SampleImage {
    let sha = this.shaCache.get(s.sampleId);
    if (sha === undefined) {
      sha = s.image ? imageSha256(s) : null;
      this.shaCache.set(s.sampleId, sha);
    }
    const budget = this.config.dataset.imagePixelBudget;
    const url = this.fileUrls?.get(s.sampleId) ?? (s.image ? imageDataUrl(s, budget !== undefined ? { pixelBudget: budget, resample: resampleOf(this.config.dataset) } : {}) : '');
    return { url, sha };
  }

  /** Stored requests name an inline image by content hash and sample id,
   * never by its bytes (250k turns of base64 would be gigabytes). */
  imageRef(s: Sample): (url: string) => string {
    const sha = this.image(s).sha;
    return (url: string) => (url.startsWith('data:') ? `sha256:${sha ?? 'none'}#sample=${s.sampleId}` : url);
  }
}
