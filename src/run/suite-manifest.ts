// A suite's manifest (`_suite_<timestamp>.json` in the runs folder): which
// configuration it runs and how it ended. The experiments' own run
// directories say which samples are on disk; the manifest only decides which
// suite a re-run continues.
import fs from 'node:fs';
import path from 'node:path';
import { runTimestamp } from '../protocol/conditions';

export type SuiteOutcome = 'completed' | 'gated' | 'interrupted';

interface SuiteManifest {
  timestamp: string;
  config_hash: string;
  status: 'running' | SuiteOutcome;
  conditions: string[];
}

function manifestPath(runsDir: string, timestamp: string): string {
  return path.join(runsDir, `_suite_${timestamp}.json`);
}

function writeManifest(runsDir: string, m: SuiteManifest): void {
  fs.mkdirSync(runsDir, { recursive: true });
  const f = manifestPath(runsDir, m.timestamp);
  fs.writeFileSync(`${f}.tmp`, JSON.stringify(m, null, 2));
  fs.renameSync(`${f}.tmp`, f);
}

/** The newest suite with the same config hash that did not finish (or,
 * with `finishedToo`, the newest one at all: resuming a finished suite
 * runs nothing and reloads it). */
function findResumable(runsDir: string, hash: string, finishedToo = false): string | null {
  if (!fs.existsSync(runsDir)) return null;
  let best: string | null = null;
  for (const f of fs.readdirSync(runsDir)) {
    const m = /^_suite_(\d{8}_\d{6})\.json$/.exec(f);
    if (!m) continue;
    try {
      const s = JSON.parse(fs.readFileSync(path.join(runsDir, f), 'utf8')) as SuiteManifest;
      if (s.config_hash !== hash || (!finishedToo && (s.status === 'completed' || s.status === 'gated'))) continue;
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

/**
 * Opens the suite to run: an unfinished one with the same configuration
 * (always: a plain re-run continues it), with `resume` the newest finished
 * one too, else a new one. Its manifest is written as running.
 */
export function openSuiteManifest(runsDir: string, o: { hash: string; resume: boolean; conditionIds: string[]; log: (l: string) => void }): SuiteManifestStore {
  const resumable = findResumable(runsDir, o.hash) ?? (o.resume ? findResumable(runsDir, o.hash, true) : null);
  if (o.resume && !resumable) o.log('resume: no suite with this configuration; starting a new one');
  const timestamp = resumable ?? runTimestamp();
  if (resumable) o.log(`resuming suite ${timestamp} (config ${o.hash})`);
  const manifest: SuiteManifest = { timestamp, config_hash: o.hash, status: 'running', conditions: o.conditionIds };
  writeManifest(runsDir, manifest);
  return { timestamp, finish: (outcome) => writeManifest(runsDir, { ...manifest, status: outcome }) };
}
