// Issue 14, preflight: a server that cannot take the run's requests (here a
// context of one token) fails the run before the first sample, naming the
// model and the setting; no sample is run and no decision drawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { preflightRunPaths } from '../src/store/preflight';

test('maxModelLen 1 on the simulator: tce run --limit 20 exits non-zero before any sample, naming models.* and maxModelLen', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-preflight-');
  const cfg = writeTestConfig(dir, fixture, { backend: { vllm: { maxModelLen: 1 } } });
  const t0 = Date.now();
  const r = await tce(['run', '--config', cfg, '--limit', '20', '--quiet'], { cwd: dir });
  const seconds = (Date.now() - t0) / 1000;
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /tce: error: models\.\w+: one request .* failed before the run/);
  assert.match(r.stderr, /backend\.vllm\.maxModelLen/);
  assert.doesNotMatch(r.stdout + r.stderr, /Outcome [1-4]/);
  const db = path.join(dir, 'tool_calling_experiment', 'tool_calling.db');
  if (fs.existsSync(db)) {
    const Database = (await import('better-sqlite3')).default;
    const h = new Database(db, { readonly: true });
    assert.equal((h.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n, 0, 'no sample ran');
    h.close();
  }
  // reported for the record, not asserted (timings belong in bench/)
  process.stdout.write(`# preflight failure after ${seconds.toFixed(1)} s\n`);
});

test('preflight: too little free space for the run folder is refused with the path', () => {
  const dir = tmpDir('tce-space-');
  assert.throws(() => preflightRunPaths({ db: path.join(dir, 'x.db'), runsDir: path.join(dir, 'runs') }, Number.MAX_SAFE_INTEGER),
    (e: Error) => e.message.includes(dir) && /MiB free for the run folder \(paths\.runsDir\)/.test(e.message));
  assert.doesNotThrow(() => preflightRunPaths({ db: path.join(dir, 'x.db'), runsDir: path.join(dir, 'runs'), mediaDir: path.join(dir, 'media') }, 1));
});
