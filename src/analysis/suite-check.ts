// An analysis covers one suite, whole. Experiments of two suites (other
// data, other settings) are never compared, and a suite some of whose
// samples are absent (a shard's run folder not loaded) is named as such
// instead of being analysed as if it were all: shards are interleaved, so
// a missing one would otherwise look like a smaller, unbiased sample.
import type { ExperimentData, ExperimentInfo } from './load';
import { suiteKey } from './load';
import { decodeRanges } from '../util/sample-ranges';
import { encodeRanges } from '../util/sample-ranges';
import { TceError } from '../util/errors';

export function checkOneSuite(dbName: string, infos: readonly ExperimentInfo[]): void {
  const suites = new Map<string, string[]>();
  for (const i of infos) suites.set(suiteKey(i), [...(suites.get(suiteKey(i)) ?? []), i.experiment_id]);
  if (suites.size <= 1) return;
  const list = [...suites.entries()].map(([s, ids]) => `${s || '(unnamed)'}: ${ids.join(', ')}`).join('; ');
  throw new TceError('MIXED_SUITES', `${dbName}: the experiments chosen belong to ${suites.size} suites (${list})`, 'analyse one suite at a time: pass the experiment ids of one suite');
}

/** Every sample the suite selected must be in each experiment. */
export function checkSamplesPresent(loaded: readonly ExperimentData[]): void {
  const problems: string[] = [];
  let example: number[] = [];
  for (const d of loaded) {
    const expected = d.info.suite_samples === null ? null : decodeRanges(d.info.suite_samples);
    if (!expected) continue;
    // A failed sample is present (counted as failed), not absent.
    const have = new Set([...d.predictions.map((p) => p.sample_id), ...d.failed.map((f) => f.sample_id)]);
    const missing = expected.filter((id) => !have.has(id));
    if (missing.length === 0) continue;
    if (example.length === 0) example = missing;
    problems.push(`${d.info.experiment_id}: ${missing.length} of ${expected.length} samples absent (shards loaded: ${d.info.shard ?? 'unsharded'})`);
  }
  if (problems.length === 0) return;
  throw new TceError('SAMPLES_MISSING', `the suite is incomplete: ${problems.join('; ')}; absent samples include ${encodeRanges(example.slice(0, 200))}${example.length > 200 ? ', ...' : ''}`,
    '`tce load` every shard\'s run folder (or finish the interrupted run); --partial analyses what is there anyway');
}
