// Issue 14, W3 and the acceptance case: an engine that dies mid-run leaves
// failed samples; the run exits non-zero and counts them; `--resume` with a
// healthy server reruns exactly those (earlier attempts stay in the run
// folder) and the result equals a clean run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import fs from 'node:fs';
import { startSimulator } from '../src/backends/sim/server';
import { parseFaultSpec } from '../src/config/faults';

const N = 20;
const ARGS = ['--limit', String(N), '--quiet', '--force', '--conditions', 'all_tools_2b'];

// The server is outside tce (an endpoints backend), as in production: the
// same configuration runs against a dying server, then a healthy one.
function sim(port: number, faults: string) {
  return startSimulator({ port, seed: 42, models: [{ servedModelName: 'qwen3-vl-2b', profile: 'qwen3-vl-2b' }], faults: parseFaultSpec(faults), apiKey: 'k' });
}

async function setup(port: number): Promise<{ dir: string; cfg: string }> {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-retry-');
  const cfg = writeTestConfig(dir, fixture, {
    backend: { kind: 'endpoints', endpoints: [{ model: 'verifier_2b', url: `http://127.0.0.1:${port}/v1`, apiKey: 'k' }] },
    retries: { max: 1, baseDelayMs: 1, maxDelayMs: 5 }, run: { requestTimeoutS: 30 },
  });
  return { dir, cfg };
}

function rows(dir: string): Array<{ sample_id: number; final_scene: string | null; final_status: string }> {
  const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  try {
    return db.prepare('SELECT sample_id, final_scene, final_long_action, final_lat_action, final_status FROM predictions ORDER BY sample_id').all() as never;
  } finally {
    db.close();
  }
}

test('die-after: exits non-zero with the failures counted; --resume on a healthy server answers every sample, equal to a clean run', async () => {
  let server = await sim(0, 'die-after=15');
  const port = Number(new URL(server.baseUrl).port);
  const broken = await setup(port);
  try {
    const first = await tce(['run', '--config', broken.cfg, ...ARGS], { cwd: broken.dir });
    assert.equal(first.status, 1, first.stderr);
    assert.match(first.stdout, /FAILED samples .*\n\s+all_tools_2b: \d+ of 20 - over run\.maxFailedShare/);
    const failedBefore = rows(broken.dir).filter((r) => r.final_status === 'server_error' || r.final_status === 'timeout').length;
    assert.ok(failedBefore > 0, 'the fault left no failed sample');
    // The summary's count comes from the analysis (analyze-and-report.ts): the rows' own.
    assert.match(first.stdout, new RegExp(`all_tools_2b: ${failedBefore} of 20 - over`));

    await server.close();
    server = await sim(port, '');
    const again = await tce(['run', '--config', broken.cfg, ...ARGS, '--resume'], { cwd: broken.dir });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /failed samples: none/);
    const resumed = rows(broken.dir);
    assert.equal(resumed.length, N);
    assert.ok(resumed.every((r) => r.final_status !== 'server_error' && r.final_status !== 'timeout'), 'every sample has an answer');
    // the earlier attempts stay in the run folder
    const runs = path.join(broken.dir, 'tool_calling_experiment', 'runs');
    const batches = fs.readdirSync(runs).flatMap((d) => (fs.statSync(path.join(runs, d)).isDirectory() ? fs.readdirSync(path.join(runs, d)) : [])).filter((f) => /commit/.test(f));
    assert.ok(batches.length >= 2, 'the retry is a new batch beside the failed attempts');

    const clean = await setup(port);
    const c = await tce(['run', '--config', clean.cfg, ...ARGS], { cwd: clean.dir });
    assert.equal(c.status, 0, c.stderr);
    assert.deepEqual(resumed, rows(clean.dir), 'the resumed run equals a clean one sample by sample');
  } finally {
    await server.close();
  }
});
