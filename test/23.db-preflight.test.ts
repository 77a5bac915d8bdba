// The database path is checked before a run starts: a folder, a read-only
// file or someone else's database fails in seconds with its path, and a
// foreign database is never touched (no WAL switch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { writeTestConfig } from './helpers/fixture';
import { preflightDatabase, preflightRunPaths } from '../src/store/preflight';
import { openDb } from '../src/store/db';
import { SC_TABLE_SQL } from '../src/data/self-consistency';

/** A small self_consistency.db: the real dataset's greedy baseline layout. */
function selfConsistencyDb(dir: string): string {
  const file = path.join(dir, 'self_consistency.db');
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.exec(SC_TABLE_SQL);
  db.close();
  return file;
}

test('C2: a folder as --db is refused before the run, naming it', async () => {
  const dir = tmpDir('tce-pre-');
  const cfg = writeTestConfig(dir, path.join(dir, 'no-fixture'));
  const r = await tce(['run', '--config', cfg, '--db', dir, '--limit', '2', '--quiet'], { cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`tce: error: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is a folder, not a database file`));
  assert.equal(fs.existsSync(path.join(dir, 'no-fixture')), false, 'nothing ran: the fixture was not even generated');
  assert.equal(fs.existsSync(path.join(dir, 'tool_calling_experiment', 'runs')), false);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a bad TCE_IO_WINDOW_US or TCE_IO_URING is refused before the run, naming the variable and the value', async () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ TCE_IO_WINDOW_US: '2ms' }, /tce: error: TCE_IO_WINDOW_US: expected whole microseconds from 0 to 1000000, got "2ms"/],
    [{ TCE_IO_URING: 'off' }, /tce: error: TCE_IO_URING: expected 0 or 1, got "off"/],
  ];
  for (const [env, message] of bad) {
    const dir = tmpDir('tce-pre-');
    const cfg = writeTestConfig(dir, path.join(dir, 'no-fixture'));
    const r = await tce(['run', '--config', cfg, '--db', path.join(dir, 'x.db'), '--limit', '2', '--quiet'], { cwd: dir, env });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(fs.existsSync(path.join(dir, 'no-fixture')), false, 'nothing ran: the fixture was not even generated');
    assert.equal(fs.existsSync(path.join(dir, 'tool_calling_experiment', 'runs')), false, 'no suite manifest');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('C2: a self_consistency.db as --db is refused before the run and stays byte-identical (no WAL)', async () => {
  const dir = tmpDir('tce-pre-');
  const sc = selfConsistencyDb(dir);
  const before = fs.readFileSync(sc);
  const cfg = writeTestConfig(dir, path.join(dir, 'no-fixture'));
  const r = await tce(['run', '--config', cfg, '--db', sc, '--limit', '2', '--quiet'], { cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /self_consistency\.db: not a tce experiment database \(it holds predictions and no experiments table\)/);
  assert.deepEqual(fs.readFileSync(sc), before);
  assert.equal(fs.existsSync(`${sc}-wal`), false);
  // openDb refuses it too, before any pragma
  assert.throws(() => openDb(sc), /not a tce experiment database/);
  assert.deepEqual(fs.readFileSync(sc), before);
  assert.equal(before[18], 1, 'journal mode byte still rollback (1), not WAL (2)');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('C2: a read-only database file is refused with its path', () => {
  const dir = tmpDir('tce-pre-');
  const file = path.join(dir, 'tc.db');
  openDb(file).close();
  fs.chmodSync(file, 0o444);
  assert.throws(() => preflightDatabase(file), (e: Error) => e.message.startsWith(`${file}: the database is read-only`));
  fs.chmodSync(file, 0o644);
  preflightDatabase(file);
  preflightDatabase(path.join(dir, 'new', 'deeper', 'tc.db'));
  assert.equal(fs.existsSync(path.join(dir, 'new')), false, 'preflight creates nothing');
  assert.throws(() => preflightRunPaths({ db: file, runsDir: file }), /tc\.db: is not a folder/);
  fs.writeFileSync(path.join(dir, 'junk.db'), 'this is not sqlite at all, just some text that is long enough');
  assert.throws(() => preflightDatabase(path.join(dir, 'junk.db')), /junk\.db: .*(not a database|not a SQLite database)/);
  fs.rmSync(dir, { recursive: true, force: true });
});
