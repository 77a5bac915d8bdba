// A suite's manifest (`_suite_<timestamp>.json` in the runs folder): which
// configuration it runs and how it ended. The experiments' own run
// directories say which samples are on disk; the manifest only decides which
// suite a re-run continues.
import fs from 'node:fs';
import path from 'node:path';
import { runTimestamp } from '../protocol/conditions';
import { TceError } from '../util/errors';

export type SuiteOutcome = 'completed' | 'gated' | 'interrupted';

interface SuiteManifest {
  timestamp: string;
  config_hash: string;
  status: 'running' | SuiteOutcome;
  conditions: string[];
  /** This node's share, i/n (null: unsharded). */
  shard?: string | null;
}

function manifestPath(runsDir: string, m: Pick<SuiteManifest, 'timestamp' | 'shard'>): string {
  const shard = m.shard ? `.shard-${m.shard.replace('/', '-of-')}` : '';
  return path.join(runsDir, `_suite_${m.timestamp}${shard}.json`);
}

function writeManifest(runsDir: string, m: SuiteManifest): void {
  fs.mkdirSync(runsDir, { recursive: true });
  const f = manifestPath(runsDir, m);
  fs.writeFileSync(`${f}.tmp`, JSON.stringify(m, null, 2));
  fs.renameSync(`${f}.tmp`, f);
}

/** The newest suite with the same config hash that did not finish (or,
 * with `finishedToo`, the newest one at all: resuming a finished suite
 * runs nothing and reloads it). */
function findResumable(runsDir: string, hash: string, shard: string | null, finishedToo = false): string | null {
  if (!fs.existsSync(runsDir)) return null;
  let best: string | null = null;
  for (const f of fs.readdirSync(runsDir)) {
    const m = /^_suite_(\d{8}_\d{6})(?:\.shard-\d+-of-\d+)?\.json$/.exec(f);
    if (!m) continue;
    try {
      const s = JSON.parse(fs.readFileSync(path.join(runsDir, f), 'utf8')) as SuiteManifest;
      if (s.config_hash !== hash || (s.shard ?? null) !== shard || (!finishedToo && (s.status === 'completed' || s.status === 'gated'))) continue;
      if (best === null || m[1]! > best) best = m[1]!;
    } catch { /* unreadable: not resumable */ }
  }
  return best;
}

export interface SuiteManifestStore {
  /** The suite's timestamp: a resumed suite's, or a new one. */
  readonly timestamp: string;
  /** Records how the suite ended. */
  finish(outcome: SuiteOutcome): void;
}

export interface ManifestOptions {
  hash: string;
  resume: boolean;
  conditionIds: string[];
  log: (l: string) => void;
  suiteId?: string | null;
  shard?: string | null;
  /** Throws when the chosen suite id cannot be used (its experiment ids are
   * taken in the database); called before the manifest is written, so a
   * refused run leaves no suite behind for a later run to resume. */
  claim?: ((suiteId: string) => void) | undefined;
}

/**
 * Opens the suite to run: an unfinished one with the same configuration
 * (always: a plain re-run continues it), with `resume` the newest finished
 * one too, else a new one. Its manifest is written as running.
 */
export function openSuiteManifest(runsDir: string, o: ManifestOptions): SuiteManifestStore {
  const shard = o.shard ?? null;
  if (o.suiteId) return openNamedSuite(runsDir, o.suiteId, shard, o);
  const resumable = findResumable(runsDir, o.hash, shard) ?? (o.resume ? findResumable(runsDir, o.hash, shard, true) : null);
  if (o.resume && !resumable) o.log('resume: no suite with this configuration; starting a new one');
  const timestamp = resumable ?? runTimestamp();
  if (resumable) o.log(`resuming suite ${timestamp} (config ${o.hash})`);
  o.claim?.(timestamp);
  const manifest: SuiteManifest = { timestamp, config_hash: o.hash, status: 'running', conditions: o.conditionIds, shard };
  writeManifest(runsDir, manifest);
  return { timestamp, finish: (outcome) => writeManifest(runsDir, { ...manifest, status: outcome }) };
}

/** A suite with a given id (--suite, a SLURM job, or a sharded run): its
 * manifest is continued when it exists, and must have the same config. */
function openNamedSuite(runsDir: string, suiteId: string, shard: string | null, o: ManifestOptions): SuiteManifestStore {
  const f = manifestPath(runsDir, { timestamp: suiteId, shard });
  if (fs.existsSync(f)) {
    let old: SuiteManifest | null = null;
    try { old = JSON.parse(fs.readFileSync(f, 'utf8')) as SuiteManifest; } catch { /* unreadable: rewritten below */ }
    if (old && old.config_hash !== o.hash) {
      throw new TceError('RUN_CONFIG_MISMATCH', `${f}: suite ${suiteId} was started with config ${old.config_hash}; this run has ${o.hash}`, 'run with the suite\'s original config, or give another --suite');
    }
    if (old) o.log(`continuing suite ${suiteId}${shard ? ` shard ${shard}` : ''} (config ${o.hash})`);
  }
  o.claim?.(suiteId);
  const manifest: SuiteManifest = { timestamp: suiteId, config_hash: o.hash, status: 'running', conditions: o.conditionIds, shard };
  writeManifest(runsDir, manifest);
  return { timestamp: suiteId, finish: (outcome) => writeManifest(runsDir, { ...manifest, status: outcome }) };
}
