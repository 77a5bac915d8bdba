import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';

// Faults are drawn per request number (seed, n): with 8 samples of a tool
// condition and a staged one, about 50 requests, each fault below hits
// several times (the retries each test prints: 3 to 20); more samples only
// repeat the same paths.
const N = 8;

function runWithFaults(faults: string, extra: Record<string, unknown> = {}, exitStatus = 0) {
  return async () => {
    const fixture = await sharedFixture();
    const dir = tmpDir('tce-faults-');
    const cfg = writeTestConfig(dir, fixture, {
      backend: { simulator: { faults } },
      retries: { max: 6, baseDelayMs: 5, maxDelayMs: 50 },
      // Only stalls need a short request timeout (each stall costs the test
      // one timeout of waiting). Elsewhere a timeout would be load on a busy
      // machine, not the fault under test; here it is only one more retry.
      run: { requestTimeoutS: faults.includes('stall') ? 1.5 : 30 },
      ...extra,
    });
    const r = await tce(['run', '--config', cfg, '--limit', String(N), '--quiet', '--force', '--no-report', '--conditions', 'all_tools_2b,staged_8b'], { cwd: dir });
    assert.equal(r.status, exitStatus, r.stderr);
    const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
    return { db, stderr: r.stderr };
  };
}

for (const [name, spec] of [
  ['HTTP 429/500/503', '429=0.1,500=0.05,503=0.05'],
  ['connections dropped mid-stream', 'drop=0.1'],
  ['a garbage SSE line', 'garbage=0.1'],
  ['mid-stream error events', 'mid-error=0.1'],
  ['stalled streams (timeout, then retry)', 'stall=0.05,stall-ms=8000'],
] as const) {
  test(`fault: ${name} — retried, every sample recorded exactly once`, async (t) => {
    const { db } = await runWithFaults(spec)();
    const per = db.prepare('SELECT experiment_id, count(*) AS n, count(DISTINCT sample_id) AS d FROM predictions GROUP BY 1').all() as Array<{ n: number; d: number }>;
    assert.equal(per.length, 2);
    for (const p of per) assert.deepEqual([p.n, p.d], [N, N]);
    const retried = db.prepare('SELECT sum(retries) AS r FROM turns').get() as { r: number };
    t.diagnostic(`${retried.r} retries`);
    assert.ok(retried.r > 0, 'the fault never triggered a retry');
    const failed = db.prepare(`SELECT count(*) AS n FROM predictions WHERE final_status IN ('server_error', 'timeout')`).get() as { n: number };
    assert.equal(failed.n, 0, 'with 6 retries every sample should get through');
    db.close();
  });
}

test('engine death mid-run: the rest fail with their error, none is dropped', async () => {
  // More than run.maxFailedShare failed: the run exits non-zero and says so.
  const { db, stderr } = await runWithFaults('die-after=15', { retries: { max: 1, baseDelayMs: 1, maxDelayMs: 5 } }, 1)();
  assert.match(stderr, /condition\(s\) failed .*run\.maxFailedShare/);
  const per = db.prepare('SELECT count(*) AS n FROM predictions GROUP BY experiment_id').all() as Array<{ n: number }>;
  for (const p of per) assert.equal(p.n, N);
  const failed = db.prepare(`SELECT count(*) AS n, min(final_error) AS e FROM predictions WHERE final_status = 'server_error'`).get() as { n: number; e: string };
  assert.ok(failed.n > 0, 'no sample recorded the dead engine');
  assert.ok(failed.e && failed.e.length > 0, 'failed samples carry their error');
  // a failed sample is no answer: nothing stands (not the original, not a
  // staged stage's partial answer), it is neither right nor wrong, and a
  // later stage's failure is not blamed on the model (no_final_block)
  const answered = db.prepare(`SELECT count(*) AS n FROM predictions WHERE final_status IN ('server_error', 'timeout')
    AND (final_scene IS NOT NULL OR final_long_action IS NOT NULL OR final_scene_correct IS NOT NULL OR was_revised IS NOT NULL OR original_flipped_incorrect IS NOT NULL)`).get() as { n: number };
  assert.equal(answered.n, 0);
  const blamed = db.prepare(`SELECT count(*) AS n FROM predictions WHERE final_status = 'no_final_block' AND final_error LIKE '%server%'`).get() as { n: number };
  assert.equal(blamed.n, 0);
  db.close();
});
