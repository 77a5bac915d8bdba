// Where tool statistics come from: the self-consistency database (the
// greedy baseline plus ground truth), read by the data layer's importer.
// Also supplies ground truth for the oracle variant of `tce tool`.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema';
import { readSelfConsistencyDb, type ReadScOptions } from '../data/self-consistency';
import { ensureFixture } from '../data/fixture/synth';
import { TceError } from '../util/errors';
import { computeToolStats, writeToolStats, type ToolStats } from './stats';
import type { OracleTruth } from './types';

export function defaultToolSource(config: Config): string {
  return config.dataset.selfConsistencyDb ?? path.join(config.paths.fixtureDir, 'self_consistency.db');
}

/** The importer's options from the config (table, greedy experiment id, column names). */
function readOptions(config: Config): ReadScOptions {
  const sc = config.dataset.selfConsistency;
  const opts: ReadScOptions = { table: sc.table, columns: sc.columns };
  if (sc.experimentId !== undefined) opts.experimentId = sc.experimentId;
  return opts;
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface BuildOptions {
  from: string;
  out: string;
  crossFit: number;
  seed: number;
  config: Config;
  /** Generate the synthetic fixture first when `from` is its default path and missing. */
  synthesizeIfMissing?: boolean;
}

export async function buildToolStatsFile(o: BuildOptions): Promise<ToolStats> {
  if (!fs.existsSync(o.from)) {
    const fixtureDb = path.resolve(o.config.paths.fixtureDir, 'self_consistency.db');
    if (o.synthesizeIfMissing && path.resolve(o.from) === fixtureDb) await ensureFixture({ outDir: o.config.paths.fixtureDir, seed: o.config.seed });
    else throw new TceError('TOOL_SOURCE_MISSING', `${o.from}: no such file`, 'pass --from with the self_consistency.db to build from');
  }
  const { samples, greedy } = readSelfConsistencyDb(o.from, readOptions(o.config));
  const stats = computeToolStats(samples, greedy, { crossFit: o.crossFit, seed: o.seed, source: { file: o.from, sha256: sha256File(o.from) } });
  writeToolStats(o.out, stats);
  return stats;
}

export function oracleTruthFor(file: string, sampleId: number, config: Config): OracleTruth {
  const { samples } = readSelfConsistencyDb(file, readOptions(config));
  const s = samples.find((x) => x.sampleId === sampleId);
  if (!s) throw new TceError('SAMPLE_NOT_FOUND', `${file}: no sample with sample_id ${sampleId}`);
  return { scene: s.sceneGt, longAction: s.longActionGt, latAction: s.latActionGt, firstWaypoint: s.waypointsGt?.[0] ?? null };
}
