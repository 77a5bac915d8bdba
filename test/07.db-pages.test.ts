// scripts/db-pages.js: bytes and page fill per b-tree of a SQLite file.
// Checked on a file whose two tables hold the same rows, one filled in key
// order and one in random order: the script must tell them apart (full
// pages against ~5/6 full), count the free pages a DELETE leaves, and
// refuse a missing file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { ROOT, tmpDir } from './helpers/cli';

const SCRIPT = path.join(ROOT, 'scripts', 'db-pages.js');

test('db-pages: pages, bytes and fill per b-tree, and the free pages', () => {
  const file = path.join(tmpDir(), 'p.db');
  const db = new Database(file);
  db.exec('CREATE TABLE ordered (k INTEGER PRIMARY KEY, v TEXT); CREATE TABLE shuffled (k INTEGER PRIMARY KEY, v TEXT); CREATE TABLE gone (v TEXT)');
  const keys = Array.from({ length: 20_000 }, (_, i) => i);
  const shuffled = [...keys];
  let seed = 12345;
  for (let i = shuffled.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  db.transaction(() => {
    for (const k of keys) db.prepare('INSERT INTO ordered VALUES (?, ?)').run(k, 'x'.repeat(40));
    for (const k of shuffled) db.prepare('INSERT INTO shuffled VALUES (?, ?)').run(k, 'x'.repeat(40));
    for (let i = 0; i < 2_000; i++) db.prepare('INSERT INTO gone VALUES (?)').run('y'.repeat(100));
  })();
  db.exec('DELETE FROM gone');
  db.close();
  const r = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const fill = (name: string): number => Number(new RegExp(`^${name}\\s+\\d+\\s+[\\d.]+\\s+([\\d.]+)$`, 'm').exec(r.stdout)?.[1]);
  assert.ok(fill('ordered') > 0.95, r.stdout);
  assert.ok(fill('shuffled') > 0.5 && fill('shuffled') < fill('ordered') - 0.05, r.stdout);
  const free = Number(/^free pages: (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(free >= 50, r.stdout);

  const missing = spawnSync(process.execPath, [SCRIPT, path.join(path.dirname(file), 'none.db')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /none\.db: no such file/);
});
