// Issue 14, W5: two runs with different configurations that got the same
// experiment id (started in the same second, separate run folders, one
// database) are never merged into one experiment: refused at the start of
// the second run when the database already holds the id, else at its load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, sharedToolStats, writeTestConfig } from './helpers/fixture';
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

test('W5 at run start: a suite id the database holds with another config is refused before any request, naming the path, the id and both hashes', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-w5-');
  const db = path.join(dir, 'shared.db');
  const configFor = (name: string, extra: Record<string, unknown>): string => {
    const file = writeTestConfig(path.join(dir, name), fixture, { ...extra, paths: undefined });
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { paths?: Record<string, string> };
    // separate run folders, one database; the shared fixture's tool
    // statistics (building them from the 8,613 rows cost a fifth of this file)
    cfg.paths = { runsDir: path.join(dir, name, 'runs'), db, fixtureDir: fixture, toolStats: sharedToolStats(fixture), reportsDir: path.join(dir, name), experimentDir: path.join(dir, name) };
    fs.writeFileSync(file, JSON.stringify(cfg));
    return file;
  };
  fs.mkdirSync(path.join(dir, 'a'));
  fs.mkdirSync(path.join(dir, 'b'));
  const args = ['--suite', 'same-id', '--limit', '4', '--conditions', 'oracle_2b', '--quiet', '--no-report'];
  const a = await tce(['run', '--config', configFor('a', {}), ...args], { cwd: dir });
  assert.equal(a.status, 0, a.stderr);
  const b = await tce(['run', '--config', configFor('b', { run: { maxTurns: 2 } }), ...args], { cwd: dir });
  assert.equal(b.status, 1, b.stderr);
  const held = openDb(db, { readonly: true });
  const { h } = held.prepare('SELECT config_hash AS h FROM experiments').get() as { h: string };
  held.close();
  const msg = new RegExp(`${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: already holds experiment tc_oracle_2b_same-id with config_hash ${h}; this run \\(config_hash [0-9a-f]+\\)`);
  assert.match(b.stderr, msg);
  assert.doesNotMatch(b.stderr, new RegExp(`this run \\(config_hash ${h}\\)`), 'the two hashes differ');
  const bRuns = path.join(dir, 'b', 'runs');
  assert.deepEqual(fs.existsSync(bRuns) ? fs.readdirSync(bRuns) : [], [], 'refused before any experiment started; no suite left behind to resume');
  // the same configuration continues its suite
  const again = await tce(['run', '--config', configFor('a', {}), ...args], { cwd: dir });
  assert.equal(again.status, 0, again.stderr);
});
