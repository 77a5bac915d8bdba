// Issue 14's acceptance with the built-in simulator, at the shared run's size:
// a run whose engines die (issue 14 says `die-after=300` with `tce run
// --limit 200`; here die-after=36 with --limit 24: the same 1.5 requests per
// sample, so each engine still dies inside the oracle phase, after some of
// its oracle's samples were answered, which the test checks) exits non-zero
// and counts its failed samples; `--resume` with a healthy simulator (the same
// config without the fault: faults are operational, test 22) answers every
// sample, keeps the failed attempts in the run folder, and its answers and
// metrics equal a clean run's row for row, every condition: the shared run
// (helpers/shared-run.ts, `tce run --limit 24 --force`, made once for the
// suite). --force on every run, as there: with 24 samples macro-F1 cannot
// reach the gate (test 61). The equality also shows that the simulator's
// answers do not depend on the faults before them (its draws are keyed by
// sample and turn, never a shared stream).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { SHARED_RUN_EXPERIMENTS, SHARED_RUN_SAMPLES, sharedRun } from './helpers/shared-run';
import { listRunDirs } from '../src/store/run-reader';
import { scanRunDir } from '../src/store/run-dir';
import { runTableLayouts } from '../src/store/arrow-schema';
import { decodeTable } from '../src/store/arrow-columns';

const N = SHARED_RUN_SAMPLES;
const LIMIT = ['--limit', String(N), '--force'];
const DIE_AFTER = N * 1.5;
// Retries only make the dead engine's failures slower to arrive.
const FAST_RETRIES = { retries: { max: 1, baseDelayMs: 1, maxDelayMs: 5 } };

/** Two configs writing to `dir`: one with the fault, one without. */
async function configs(dir: string): Promise<{ faulty: string; healthy: string }> {
  const fixture = await sharedFixture();
  const healthy = writeTestConfig(dir, fixture, FAST_RETRIES);
  const faulty = path.join(dir, 'faulty.json');
  const cfg = JSON.parse(fs.readFileSync(healthy, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(faulty, JSON.stringify({ ...cfg, backend: { simulator: { faults: `die-after=${DIE_AFTER}` } } }));
  return { faulty, healthy };
}

const dbOf = (dir: string): Database.Database => new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });

// Columns that are times, ids or dates: they differ between any two runs.
const RUN_SPECIFIC = /time_ms|ttft|_under_5s|throughput|created_at|^id$|experiment_id|derived_from/;

/** condition_metrics without run-specific columns, keyed by condition. */
function metricRows(dir: string): Array<Record<string, unknown>> {
  const db = dbOf(dir);
  try {
    const rows = db.prepare('SELECT * FROM condition_metrics ORDER BY condition_name, verifier_size, role').all() as Array<Record<string, unknown>>;
    return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !RUN_SPECIFIC.test(k))));
  } finally {
    db.close();
  }
}

function predictions(dir: string): unknown[] {
  const db = dbOf(dir);
  try {
    return db.prepare(`SELECT e.condition_name, e.verifier_size, p.sample_id, p.final_status, p.final_scene, p.final_long_action, p.final_lat_action, p.was_revised
      FROM predictions p JOIN experiments e USING (experiment_id) ORDER BY 1, 2, 3`).all();
  } finally {
    db.close();
  }
}

/** Per run folder, the samples whose rows include a failed attempt: from
 * the committed predictions files alone (the turns, most of a folder's
 * bytes, say nothing of it). */
function failedAttempts(dir: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  const layout = runTableLayouts().predictions;
  for (const d of listRunDirs([path.join(dir, 'tool_calling_experiment', 'runs')])) {
    const ids = new Set<number>();
    for (const { paths } of scanRunDir(d).committed) {
      const p = decodeTable(layout, fs.readFileSync(paths.predictions), paths.predictions);
      const [status, sid] = [p.cells['final_status']!, p.cells['sample_id']!];
      for (let i = 0; i < p.length; i++) if (status.at(i) === 'server_error' || status.at(i) === 'timeout') ids.add(Number(sid.at(i)));
    }
    out.set(path.basename(d), ids);
  }
  return out;
}

test(`acceptance: die-after=${DIE_AFTER} of --limit ${N} fails loudly; --resume on a healthy simulator equals a clean run`, async () => {
  const dir = tmpDir('tce-accept-');
  const { faulty, healthy } = await configs(dir);

  const first = await tce(['run', '--config', faulty, ...LIMIT], { cwd: dir });
  assert.equal(first.status, 1, first.stderr);
  const counted = [...first.stdout.matchAll(new RegExp(`^\\s+(\\w+): (\\d+) of ${N}\\b`, 'gm'))].reduce((s, m) => s + Number(m[2]), 0);
  const db = dbOf(dir);
  const failed = (db.prepare(`SELECT count(*) AS n FROM predictions WHERE final_status IN ('server_error', 'timeout')`).get() as { n: number }).n;
  db.close();
  assert.ok(failed > 0, 'the dead engine left no failed sample');
  assert.match(first.stdout, /FAILED samples/);
  assert.equal(counted, failed, 'the terminal summary counts every failed sample');
  assert.match(first.stderr, /condition\(s\) failed/);
  // the oracles' failed samples are no low ceiling: the gate is not judged, the suite goes on
  assert.match(first.stdout, /oracle gate: NOT JUDGED \(.*oracle_2b.*samples failed/);
  const attempts = failedAttempts(dir);
  // each engine died inside its oracle: some of the oracle's samples failed, some were answered before
  const oracles = [...attempts].filter(([run]) => /^tc_oracle_[28]b_/.test(run));
  assert.equal(oracles.length, 2, [...attempts.keys()].join(', '));
  for (const [run, ids] of oracles) assert.ok(ids.size > 0 && ids.size < N, `${run}: ${ids.size} of ${N} failed`);

  const again = await tce(['run', '--config', healthy, ...LIMIT, '--resume'], { cwd: dir });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /failed samples: none/);
  const resumed = predictions(dir) as Array<Record<string, unknown>>;
  assert.equal(resumed.length, N * 12 + N, 'every sample of every condition, once (12 verifier conditions and the baseline)');
  assert.ok(resumed.every((r) => r.final_status !== 'server_error' && r.final_status !== 'timeout'), 'no failure status remains');
  // the failed attempts stay in the run folders beside their answers
  const after = failedAttempts(dir);
  for (const [run, ids] of attempts) assert.deepEqual(after.get(run), ids, `${run}: the failed attempts are kept`);

  // The clean run: the shared one, every condition. The oracles mix answers
  // from before the engine died with resumed ones; the rest (tool turns, two
  // stages, the derived staged first answers) were answered wholly on resume.
  const cleanDir = await sharedRun();
  const cleanAnswers = predictions(cleanDir);
  assert.equal(cleanAnswers.length, N * SHARED_RUN_EXPERIMENTS);
  assert.deepEqual(resumed, cleanAnswers, 'every answer equals the clean run\'s');
  const metrics = metricRows(dir);
  assert.ok(metrics.length >= 15 && metrics.some((m) => m.condition_name === 'staged_first_answer'), 'the staged first answers have metrics rows');
  assert.deepEqual(metrics, metricRows(cleanDir), 'condition_metrics equal the clean run\'s, row for row');
});
