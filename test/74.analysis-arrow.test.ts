import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDb } from '../src/store/db';
import { analyzeArrow, analyzeDb } from '../src/analysis/analyze';
import { insertSyntheticSuite } from './support/synthetic-suite';
import { writeRunsFromDb } from './support/db-to-runs';
import { tce, tmpDir } from './helpers/cli';

/** The same synthetic suite as a database file and as Arrow run folders,
 * made once for both tests below (making it is most of their cost). */
let shared: Promise<{ dir: string; file: string; runs: string }> | null = null;
function bothForms(): Promise<{ dir: string; file: string; runs: string }> {
  shared ??= (async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'tool_calling.db');
    const db = openDb(file);
    try {
      insertSyntheticSuite(db, { nSamples: 100, seed: 9 });
      const runs = path.join(dir, 'runs');
      await writeRunsFromDb(db, runs);
      return { dir, file, runs };
    } finally {
      db.close();
    }
  })();
  return shared;
}

test('the database and the Arrow run folders give identical analyses', async () => {
  const { file, runs } = await bothForms();
  const db = openDb(file, { create: false });
  const fromDb = await analyzeDb(db, { bootstrap: 100, seed: 1, workers: 1 });
  db.close();
  const { db: mem, result: fromArrow } = await analyzeArrow([runs], { bootstrap: 100, seed: 1, workers: 1 });
  mem.close();
  assert.equal(fromArrow.conditions.length, 15); // 13 experiments and two staged first answers
  assert.deepEqual(fromArrow, fromDb);
});

test('tce analyze prints the same table from Arrow run folders as from the database', async () => {
  const { dir, file, runs } = await bothForms();
  const viaDb = await tce(['analyze', '--db', file, '--bootstrap', '100', '--workers', '1']);
  assert.equal(viaDb.status, 0, viaDb.stderr);
  const viaArrow = await tce(['analyze', '--from-arrow', runs, '--bootstrap', '100', '--workers', '1', '--db', path.join(dir, 'absent.db')]);
  assert.equal(viaArrow.status, 0, viaArrow.stderr);
  assert.equal(viaArrow.stdout, viaDb.stdout);
  assert.match(viaDb.stdout, /^SYNTHETIC RESULTS/);
  assert.equal(viaDb.stdout.split('\n').filter((l) => /^(baseline|oracle|no_tools|prior_only|confusion_only|all_tools|staged)/.test(l)).length, 15);
});

test('analyze names the missing database or run folder', async () => {
  const dir = tmpDir();
  const r = await tce(['analyze', '--db', path.join(dir, 'nope.db')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nope\.db: no such database/);
  const a = await tce(['analyze', '--from-arrow', path.join(dir, 'nowhere')]);
  assert.equal(a.status, 1);
  assert.match(a.stderr, /nowhere: no such directory/);
});
