// The one entry point from config to experiment data: samples (with images)
// and the greedy baseline, validated before any run starts. The fixture is
// synthesized on first use (or when its folder is incomplete).
import path from 'node:path';
import type { Config } from '../config/schema';
import type { GreedyPrediction, Sample } from '../domain/sample';
import { TceError } from '../util/errors';
import { readMdsSamples, type PickSamples } from './mds-source';
import { readJsonlSamples } from './jsonl-source';
import { readSelfConsistencyDb, type ReadScOptions } from './self-consistency';
import { FIXTURE_MDS_DIR, FIXTURE_SC_DB, ensureFixture } from './fixture/synth';

export interface ExperimentData {
  samples: Sample[];
  greedy: Map<number, GreedyPrediction>;
  /** Human-readable origin, shown in logs and reports. */
  source: string;
  synthetic: boolean;
}

const GT_FIELDS = ['sceneGt', 'longActionGt', 'latActionGt'] as const;

/** Samples whose ground truth the dataset and the database state differently
 * (fields both give); the metrics would depend on which one is read. */
function checkGroundTruthAgrees(samples: Sample[], scSamples: Sample[], dataSource: string, dbFile: string): void {
  const byId = new Map(scSamples.map((s) => [s.sampleId, s]));
  const diffs: string[] = [];
  let count = 0;
  for (const s of samples) {
    const o = byId.get(s.sampleId);
    if (!o) continue;
    const f = GT_FIELDS.find((k) => s[k] !== null && o[k] !== null && s[k] !== o[k]);
    if (f === undefined) continue;
    count++;
    if (diffs.length < 3) diffs.push(`sample_id ${s.sampleId} ${f}: ${JSON.stringify(s[f])} vs ${JSON.stringify(o[f])}`);
  }
  if (count) throw new TceError('GT_MISMATCH', `${dataSource} and ${dbFile} disagree on the ground truth of ${count} of ${samples.length} samples (${diffs.join('; ')}${count > 3 ? '; ...' : ''})`, 'the two files must come from the same dataset version; check dataset.mapping and dataset.selfConsistency.columns');
}

/** The importer's options from the config (table, greedy experiment id, column and value maps). */
export function selfConsistencyOptions(config: Config): ReadScOptions {
  const sc = config.dataset.selfConsistency;
  const opts: ReadScOptions = { table: sc.table, columns: sc.columns, values: sc.values };
  if (sc.experimentId !== undefined) opts.experimentId = sc.experimentId;
  return opts;
}

/** The configured self_consistency.db, else the synthetic fixture's. */
export function selfConsistencyDbPath(config: Config): string {
  return config.dataset.selfConsistencyDb ?? path.join(config.paths.fixtureDir, FIXTURE_SC_DB);
}

/** Samples and greedy predictions of a self_consistency.db, read as the config says. */
export function readSelfConsistency(file: string, config: Config, only?: ReadonlySet<number>): { samples: Sample[]; greedy: Map<number, GreedyPrediction> } {
  const opts = selfConsistencyOptions(config);
  if (only) opts.only = only;
  return readSelfConsistencyDb(file, opts);
}

/** The greedy baseline from the self-consistency database: every sample
 * needs its prediction (ids only in the database are ignored), and both
 * sources must agree on ground truth. */
function readBaseline(file: string, config: Config, samples: Sample[], dataSource: string, picked: boolean): Map<number, GreedyPrediction> {
  const read = readSelfConsistency(file, config, picked ? new Set(samples.map((s) => s.sampleId)) : undefined);
  const missing = samples.filter((s) => !read.greedy.has(s.sampleId)).map((s) => s.sampleId);
  if (missing.length) {
    throw new TceError('DATA_MISMATCH', `${file}: no greedy prediction for ${missing.length} of ${samples.length} samples (sample_id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''})`, 'point dataset.selfConsistencyDb at the database of this dataset, or map sample_id to the right column');
  }
  checkGroundTruthAgrees(samples, read.samples, dataSource, file);
  return read.greedy;
}

/** A JSONL manifest is read whole (it holds image paths, not images); `pick` then filters it. */
function pickFrom(samples: Sample[], pick: PickSamples | undefined): Sample[] {
  if (!pick) return samples;
  const keep = pick(samples.map((s) => s.sampleId));
  return samples.filter((s) => keep.has(s.sampleId));
}

export interface LoadDataOptions {
  log?: (l: string) => void;
  /** Keeps only the samples a run needs (--limit, --shard): MDS rows and
   * baseline rows outside it are neither decoded nor validated. */
  pick?: PickSamples;
}

export async function loadExperimentData(config: Config, opts: LoadDataOptions = {}): Promise<ExperimentData> {
  const log = opts.log ?? (() => {});
  const ds = config.dataset;
  if (ds.source === 'fixture') {
    const dir = config.paths.fixtureDir;
    await ensureFixture({ outDir: dir, seed: config.seed, log });
    const samples = readMdsSamples(path.join(dir, FIXTURE_MDS_DIR), ds.mapping, { validateHashes: ds.validateHashes }, opts.pick);
    const dbFile = selfConsistencyDbPath(config);
    const greedy = readBaseline(dbFile, config, samples, path.join(dir, FIXTURE_MDS_DIR), opts.pick !== undefined);
    return { samples, greedy, source: `synthetic SceneIQ fixture (seed ${config.seed}) in ${dir}`, synthetic: true };
  }
  if (ds.path === undefined) throw new TceError('CONFIG_INVALID', `dataset.source is '${ds.source}' but dataset.path is not set`, `set dataset.path to the ${ds.source === 'mds' ? 'MDS folder (with index.json)' : 'JSONL manifest'}`);
  const samples = ds.source === 'mds' ? readMdsSamples(ds.path, ds.mapping, { validateHashes: ds.validateHashes }, opts.pick) : pickFrom(readJsonlSamples(ds.path, ds.mapping), opts.pick);
  let greedy = new Map<number, GreedyPrediction>();
  if (ds.selfConsistencyDb !== undefined) {
    greedy = readBaseline(ds.selfConsistencyDb, config, samples, ds.path, opts.pick !== undefined);
  } else {
    log('no dataset.selfConsistencyDb: no greedy baseline; predictions must be generated');
  }
  log(`loaded ${samples.length} samples from ${ds.path}`);
  return { samples, greedy, source: `${ds.source} ${ds.path}`, synthetic: false };
}
