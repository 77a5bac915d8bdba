// Issue 14, W5: two runs with different configurations that got the same
// experiment id (started in the same second, separate run folders, one
// database) are never merged into one experiment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { openDb } from '../src/store/db';
import { openRunWriter } from '../src/store/run-writer';
import { loadRuns } from '../src/store/bulk-load';
import { syntheticRecord } from './support/synthetic-records';
import type { ExperimentRow } from '../src/store/rows';

const EXP: ExperimentRow = { experiment_id: 'tc_all_tools_2b_20260101_000000', condition_name: 'all_tools', pipeline: 'B', config_hash: 'h1', status: 'running' };

async function writeRun(runsDir: string, sids: number[], hash: string): Promise<string> {
  const row = { ...EXP, config_hash: hash } as ExperimentRow;
  const w = openRunWriter(runsDir, row, { flushRows: 50 });
  for (const sid of sids) w.append(syntheticRecord(sid));
  await w.finish({ ...row, status: 'completed', total_samples: sids.length });
  return w.dir;
}

test('one experiment id, two configurations: the second load is refused naming both hashes; the first stays whole', async () => {
  const root = tmpDir();
  const a = await writeRun(path.join(root, 'runA'), [0, 1, 2, 3], 'hash_a');
  const b = await writeRun(path.join(root, 'runB'), [4, 5, 6], 'hash_b');
  const db = openDb(path.join(root, 't.db'));
  loadRuns(db, [a]);
  assert.throws(() => loadRuns(db, [b]), /config_hash hash_b.*already holds experiment tc_all_tools_2b_20260101_000000 with config_hash hash_a/);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM predictions').get(), { n: 4 });
  assert.deepEqual(db.prepare('SELECT config_hash FROM experiments').get(), { config_hash: 'hash_a' });
  // the same configuration from another folder (a shard, a copy) still merges
  const c = await writeRun(path.join(root, 'runC'), [7, 8], 'hash_a');
  assert.equal(loadRuns(db, [c]).predictions, 2);
  db.close();
});
