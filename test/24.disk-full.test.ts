// A full disk or a read-only folder: `tce: error:` with the path, never a
// Node stack trace (the run goes through the real binary, where an unhandled
// rejection would print one), and no `.tmp` file left behind. A tiny tmpfs makes a
// real ENOSPC (needs root to mount; skipped otherwise).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tceProcess, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { writeDurable, writeDurableSync } from '../src/store/durable-file';
import { TceError } from '../src/util/errors';

const mounts: string[] = [];
// Lazy when busy: a file handle of the in-process calls may still be open at
// this point; the mount goes away when it closes (at the latest at exit).
after(() => { for (const m of mounts) if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]); });

/** A tmpfs of `kb` KiB, or null where mounting is not allowed. */
function tinyDisk(kb: number, extra = ''): string | null {
  const dir = tmpDir('tce-disk-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k${extra}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(dir);
  return dir;
}

function fill(dir: string): void {
  try { fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(64 << 20)); } catch { /* full now */ }
}

function tmpFilesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.tmp'));
}

test('C1: a durable write to a full disk names the file and leaves no .tmp', async (t) => {
  const disk = tinyDisk(64);
  if (!disk) return t.skip('cannot mount a tmpfs here (not root)');
  fill(disk);
  const file = path.join(disk, 'b000001.turns.arrow');
  await assert.rejects(writeDurable(file, Buffer.alloc(200_000, 1)), (e: unknown) => e instanceof TceError && e.code === 'DISK_FULL' && e.message.startsWith(`${file}: cannot write: ENOSPC`));
  assert.throws(() => writeDurableSync(file, Buffer.alloc(200_000, 1)), /b000001\.turns\.arrow: cannot write: ENOSPC/);
  assert.deepEqual(tmpFilesUnder(disk), []);
});

test('C1: a read-only folder names the file', (t) => {
  const disk = tinyDisk(64, ',ro');
  if (!disk) return t.skip('cannot mount a tmpfs here (not root)');
  assert.throws(() => writeDurableSync(path.join(disk, 'x.json'), '{}'), (e: unknown) => e instanceof TceError && /x\.json: cannot write: EROFS/.test(e.message) && /read-only/.test(e.hint ?? ''));
});

test('C1: tce run, report and load on a full disk: tce: error: with the path, no stack trace, no .tmp', async (t) => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-full-');
  const disk = tinyDisk(64);
  if (!disk) return t.skip('cannot mount a tmpfs here (not root)');
  // run: the Arrow intermediates go to the tiny disk (the free-space
  // preflight off, so the disk fills mid-run: the first batches of 40
  // samples, about 35 KB each, are more than the 64 KiB together)
  const cfg = writeTestConfig(dir, fixture, { run: { minFreeMiB: 0 } });
  const run = tceProcess(['run', '--config', cfg, '--runs', path.join(disk, 'runs'), '--limit', '40', '--quiet', '--conditions', 'baseline,oracle_8b,all_tools_8b'], { cwd: dir, timeout: 180_000 });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /^tce: error: .*\/runs\/tc_[a-z0-9_]+\/b\d+\.[a-z_]+(\.arrow|\.json): cannot write: ENOSPC/m);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(tmpFilesUnder(disk), []);

  // report: a complete run in a normal place, the reports onto a full disk
  // (the baseline alone: it reuses the greedy predictions, so no simulator
  // starts for it; the reports and the load still write)
  const runs = path.join(dir, 'runs');
  const ok = await tce(['run', '--config', cfg, '--runs', runs, '--limit', '12', '--quiet', '--conditions', 'baseline', '--no-report'], { cwd: dir });
  assert.equal(ok.status, 0, ok.stderr);
  fs.rmSync(path.join(disk, 'runs'), { recursive: true, force: true });
  fill(disk);
  const rep = await tce(['report', '--config', cfg, '--out', path.join(disk, 'reports')], { cwd: dir });
  assert.notEqual(rep.status, 0);
  assert.match(rep.stderr, /^tce: error: .*\/reports(\/[^:]+)?: (cannot write: ENOSPC|ENOSPC)/m);
  assert.doesNotMatch(rep.stderr, /\n\s+at /);
  assert.deepEqual(tmpFilesUnder(disk), []);

  // load: the database on the full disk (made while there was room)
  const disk2 = tinyDisk(2048)!;
  const db = path.join(disk2, 'full.db');
  const made = await tce(['create-db', '--db', db]);
  assert.equal(made.status, 0, made.stderr + made.stdout);
  fill(disk2);
  const load = await tce(['load', '--db', db, runs], { cwd: dir });
  assert.equal(load.status, 1, load.stderr);
  assert.match(load.stderr, /^tce: error: .*full\.db: cannot write: (SQLITE_FULL|SQLITE_IOERR\w*|ENOSPC): .*\nhint: .*(disk is full|full disk)/m);
  assert.doesNotMatch(load.stderr, /\n\s+at /);
  fs.rmSync(dir, { recursive: true, force: true });
});
