// Tool statistics for a run or `tce build-tools`: computed (src/tools) from
// the self-consistency data (src/data), built when the file is missing or was
// built from another source or mode, loaded otherwise. Also the ground truth
// for the oracle variant of `tce tool`. This layer composes data and tools,
// which do not import each other.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema';
import { readSelfConsistency, selfConsistencyDbPath } from '../data/load';
import { ensureFixture, FIXTURE_SC_DB } from '../data/fixture/synth';
import { computeToolStats, loadToolStats, writeToolStats, type ToolStats } from '../tools/stats';
import type { OracleTruth } from '../tools/types';
import { TceError } from '../util/errors';
import { sha256File, VerifiedHashes } from '../util/verified-hashes';

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
    const fixtureDb = path.resolve(o.config.paths.fixtureDir, FIXTURE_SC_DB);
    if (o.synthesizeIfMissing && path.resolve(o.from) === fixtureDb) await ensureFixture({ outDir: o.config.paths.fixtureDir, seed: o.config.seed });
    else throw new TceError('TOOL_SOURCE_MISSING', `${o.from}: no such file`, 'pass --from with the self_consistency.db to build from');
  }
  const { samples, greedy } = readSelfConsistency(o.from, o.config);
  const stats = computeToolStats(samples, greedy, { crossFit: o.crossFit, seed: o.seed, source: { file: o.from, sha256: sha256File(o.from) } });
  writeToolStats(o.out, stats);
  return stats;
}

export function oracleTruthFor(file: string, sampleId: number, config: Config): OracleTruth {
  // One sample's truth: the rows of the others are never converted.
  const { samples } = readSelfConsistency(file, config, new Set([sampleId]));
  const s = samples.find((x) => x.sampleId === sampleId);
  if (!s) throw new TceError('SAMPLE_NOT_FOUND', `${file}: no sample with sample_id ${sampleId}`);
  return { scene: s.sceneGt, longAction: s.longActionGt, latAction: s.latActionGt, firstWaypoint: s.waypointsGt?.[0] ?? null };
}

export async function ensureToolStats(c: Config, log: (l: string) => void): Promise<ToolStats> {
  const src = selfConsistencyDbPath(c);
  const mode = c.tools.crossFit >= 2 ? `cross_fit_${c.tools.crossFit}` : 'in_sample';
  if (fs.existsSync(c.paths.toolStats) && fs.existsSync(src)) {
    const s = loadToolStats(c.paths.toolStats);
    // Remembered beside the statistics (a folder tce writes to), by the
    // source's absolute path: the data folder may be read-only.
    const known = new VerifiedHashes(path.dirname(path.resolve(c.paths.toolStats)));
    const sha = known.sha256(path.resolve(src), src);
    known.save();
    if (s.source?.sha256 === sha && s.mode === mode) return s;
    log(`tool statistics in ${c.paths.toolStats} are stale (other source or mode); rebuilding`);
  }
  const stats = await buildToolStatsFile({ from: src, out: c.paths.toolStats, crossFit: c.tools.crossFit, seed: c.seed, config: c, synthesizeIfMissing: true });
  log(`built tool statistics (${stats.mode}) from ${src} -> ${c.paths.toolStats}`);
  return stats;
}
