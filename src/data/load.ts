// The one entry point from config to experiment data: samples (with images)
// and the greedy baseline, validated before any run starts. The fixture is
// synthesized on first use (or when its folder is incomplete).
import path from 'node:path';
import type { Config } from '../config/schema';
import type { GreedyPrediction, Sample } from '../domain/sample';
import { TceError } from '../util/errors';
import { readMdsSamples } from './mds-source';
import { readJsonlSamples } from './jsonl-source';
import { readSelfConsistencyDb } from './self-consistency';
import { FIXTURE_MDS_DIR, FIXTURE_SC_DB, ensureFixture } from './fixture/synth';

export interface ExperimentData {
  samples: Sample[];
  greedy: Map<number, GreedyPrediction>;
  /** Human-readable origin, shown in logs and reports. */
  source: string;
  synthetic: boolean;
}

function readGreedy(file: string, config: Config): Map<number, GreedyPrediction> {
  const sc = config.dataset.selfConsistency;
  const opts: { table?: string; experimentId?: string; columns?: Record<string, string> } = { table: sc.table, columns: sc.columns };
  if (sc.experimentId !== undefined) opts.experimentId = sc.experimentId;
  return readSelfConsistencyDb(file, opts).greedy;
}

/** Every sample needs its baseline prediction; ids only in the database are ignored. */
function checkGreedyCoverage(samples: Sample[], greedy: Map<number, GreedyPrediction>, dbFile: string): void {
  const missing = samples.filter((s) => !greedy.has(s.sampleId)).map((s) => s.sampleId);
  if (missing.length) {
    throw new TceError('DATA_MISMATCH', `${dbFile}: no greedy prediction for ${missing.length} of ${samples.length} samples (sample_id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''})`, 'point dataset.selfConsistencyDb at the database of this dataset, or map sample_id to the right column');
  }
}

export async function loadExperimentData(config: Config, opts: { log?: (l: string) => void } = {}): Promise<ExperimentData> {
  const log = opts.log ?? (() => {});
  const ds = config.dataset;
  if (ds.source === 'fixture') {
    const dir = config.paths.fixtureDir;
    await ensureFixture({ outDir: dir, seed: config.seed, log });
    const samples = readMdsSamples(path.join(dir, FIXTURE_MDS_DIR), ds.mapping, { validateHashes: ds.validateHashes });
    const dbFile = ds.selfConsistencyDb ?? path.join(dir, FIXTURE_SC_DB);
    const greedy = readGreedy(dbFile, config);
    checkGreedyCoverage(samples, greedy, dbFile);
    return { samples, greedy, source: `synthetic SceneIQ fixture (seed ${config.seed}) in ${dir}`, synthetic: true };
  }
  if (ds.path === undefined) throw new TceError('CONFIG_INVALID', `dataset.source is '${ds.source}' but dataset.path is not set`, `set dataset.path to the ${ds.source === 'mds' ? 'MDS folder (with index.json)' : 'JSONL manifest'}`);
  const samples = ds.source === 'mds' ? readMdsSamples(ds.path, ds.mapping, { validateHashes: ds.validateHashes }) : readJsonlSamples(ds.path, ds.mapping);
  let greedy = new Map<number, GreedyPrediction>();
  if (ds.selfConsistencyDb !== undefined) {
    greedy = readGreedy(ds.selfConsistencyDb, config);
    checkGreedyCoverage(samples, greedy, ds.selfConsistencyDb);
  } else {
    log('no dataset.selfConsistencyDb: no greedy baseline; predictions must be generated');
  }
  log(`loaded ${samples.length} samples from ${ds.path}`);
  return { samples, greedy, source: `${ds.source} ${ds.path}`, synthetic: false };
}
