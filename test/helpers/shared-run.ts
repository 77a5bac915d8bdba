// One small default-shaped `tce run` shared by the test files that only read
// what it writes (61, 75, 77) or compare their own runs with it (62, 85):
// each of them made its own before, the same shape but for the sample count
// and conditions. Made once per version of
// the code (every compiled file under dist/src, the native addon) and of
// the fixture, under .cache/test; test files running at once take a lock,
// the first makes the run and the others wait for it. A copy goes to each
// file that changes it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { withFixtureLock } from '../../src/data/fixture/fixture-dir';
import { ROOT, tce } from './cli';
import { sharedFixture, TEST_CACHE, writeTestConfig } from './fixture';

/** Samples of the shared run: enough that every condition makes tool calls
 * and revises something (61), with all 11 conditions and the two controls. */
export const SHARED_RUN_SAMPLES = 24;
/** Its experiments: the plan's 11 conditions and the two no_tools controls. */
export const SHARED_RUN_EXPERIMENTS = 13;
/** With its reports: the run as `tce run` makes it by default. */
const ARGS = ['--limit', String(SHARED_RUN_SAMPLES), '--quiet', '--force'];
const COMPLETE = 'complete';

/** Hash of every compiled source file and of the native addons the loader
 * may pick (src/native/loader.ts): any change to the code runs it again. */
function codeHash(): string {
  const distSrc = path.resolve(__dirname, '..', '..', 'src');
  const h = crypto.createHash('sha256');
  for (const addon of ['build/Release', 'build/Debug', 'build-cmake/Release', 'build-cmake'].map((d) => path.join(ROOT, d, 'tce_native.node'))) {
    h.update(addon).update('\0').update(fs.existsSync(addon) ? fs.readFileSync(addon) : 'absent');
  }
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.name.endsWith('.js')) h.update(path.relative(distSrc, f)).update('\0').update(fs.readFileSync(f));
    }
  };
  walk(distSrc);
  return h.digest('hex').slice(0, 12);
}

let shared: Promise<string> | null = null;

/** The folder of the shared run: config.json, and tool_calling_experiment/
 * with the database, the Arrow runs and the reports. Read it, never write
 * it (copySharedRun gives a copy to change). */
export function sharedRun(): Promise<string> {
  shared ??= (async () => {
    const fixture = await sharedFixture();
    const key = crypto.createHash('sha256').update(JSON.stringify([codeHash(), path.basename(fixture), ARGS])).digest('hex').slice(0, 12);
    const dir = path.join(TEST_CACHE, `run-${key}`);
    if (fs.existsSync(path.join(dir, COMPLETE))) return dir;
    const lockDir = path.join(TEST_CACHE, 'shared-run-lock');
    fs.mkdirSync(lockDir, { recursive: true });
    await withFixtureLock(lockDir, async () => {
      if (fs.existsSync(path.join(dir, COMPLETE))) return;
      // A run left half-made (its process killed) is made again from scratch.
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      const cfg = writeTestConfig(dir, fixture);
      const r = await tce(['run', '--config', cfg, ...ARGS], { cwd: dir });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      fs.writeFileSync(path.join(dir, COMPLETE), `${r.stdout}`);
    });
    return dir;
  })();
  return shared;
}

/** What the shared run printed on stdout. */
export function sharedRunStdout(dir: string): string {
  return fs.readFileSync(path.join(dir, COMPLETE), 'utf8');
}

/** A copy of the shared run's tool_calling_experiment/ in `dest` (the
 * database, runs and reports: the layout writeTestConfig and the default
 * config both use), for a test that changes them. */
export async function copySharedRun(dest: string): Promise<void> {
  const src = await sharedRun();
  fs.cpSync(path.join(src, 'tool_calling_experiment'), path.join(dest, 'tool_calling_experiment'), { recursive: true });
}
