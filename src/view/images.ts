// Sample images for the sample page, read from the configured dataset (the
// database stores only each image's sha256). The dataset is read once, in
// the background after the server starts, and never written: a missing
// synthetic fixture is not generated here, the page just says "no image".
// An image is served only when its sha256 matches the one the run sent, so a
// different dataset cannot show the wrong picture.
import path from 'node:path';
import type { Config } from '../config/schema';
import { readMdsSamples } from '../data/mds-source';
import { readJsonlSamples } from '../data/jsonl-source';
import { FIXTURE_MDS_DIR, fixtureIsComplete } from '../data/fixture/synth';
import { imageSha256 } from '../data/image-payload';
import type { Sample } from '../domain/sample';

export interface Image { bytes: Uint8Array; mime: 'image/png' | 'image/jpeg' }

export interface ImageSource {
  /** The image of `sampleId` when the dataset has it with this sha256. */
  get(sampleId: number, sha256: string | null): Promise<Image | null>;
  /** Why images are unavailable, or null (known once the dataset was read). */
  readonly problem: string | null;
  /** Starts reading the dataset now rather than on the first image. */
  preload(): void;
}

function readSamples(config: Config): Sample[] | string {
  const ds = config.dataset;
  if (ds.source === 'fixture') {
    const dir = config.paths.fixtureDir;
    if (!fixtureIsComplete(dir, config.seed)) return `no complete synthetic fixture in ${dir}`;
    return readMdsSamples(path.join(dir, FIXTURE_MDS_DIR), ds.mapping, { validateHashes: false });
  }
  if (ds.path === undefined) return 'dataset.path is not set';
  return ds.source === 'mds' ? readMdsSamples(ds.path, ds.mapping, { validateHashes: false }) : readJsonlSamples(ds.path, ds.mapping);
}

export function datasetImages(config: Config | null): ImageSource {
  let problem: string | null = config ? null : 'no config';
  let byId: Promise<Map<number, Sample>> | null = null;
  const load = (): Promise<Map<number, Sample>> => {
    byId ??= new Promise((resolve) => {
      setImmediate(() => {
        try {
          const r = config ? readSamples(config) : 'no config';
          if (typeof r === 'string') { problem = r; resolve(new Map()); return; }
          resolve(new Map(r.filter((s) => s.image && s.imageMime).map((s) => [s.sampleId, s])));
        } catch (e) {
          problem = `dataset unreadable: ${(e as Error).message}`;
          resolve(new Map());
        }
      });
    });
    return byId;
  };
  return {
    get problem() { return problem; },
    preload() { void load(); },
    async get(sampleId, sha256) {
      const s = (await load()).get(sampleId);
      if (!s || !s.image || !s.imageMime) return null;
      if (sha256 !== null && imageSha256(s) !== sha256) return null;
      return { bytes: s.image, mime: s.imageMime };
    },
  };
}

/** No dataset: every image is unavailable (tests, or a database alone). */
export const NO_IMAGES: ImageSource = { problem: 'no dataset', preload() {}, async get() { return null; } };
