import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir, TCE_BIN } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { rng } from './helpers/extract-fuzz';
import { sharedRun } from './helpers/shared-run';

// 16 samples x 13 experiments in batches of 4 samples: 52 batches (156
// committed files), so a kill after the first few lands mid-run, often inside
// an experiment (and if not, the attempt is repeated, killing sooner). At
// this size the oracle gate would stop the tool conditions: --force runs
// them, a third of the samples of the 40 the gate lets through.
// The uninterrupted run to compare with is the shared run (helpers/shared-run.ts:
// the same conditions and --force, 24 samples): --limit takes the smallest
// sample ids, and a sample's rows depend on its own draws only (test 85), not
// on which other samples ran or how they were batched, so its 16 smallest
// samples are the uninterrupted run of these 16.
const N = 16;
const SMALL_BATCHES = { run: { flushSamples: 4 } };
const RUN = ['run', '--limit', String(N), '--force', '--quiet', '--no-report'];

function committedFiles(runs: string): number {
  if (!fs.existsSync(runs)) return 0;
  let n = 0;
  // The run writes and renames files here while this polls: the entry's
  // type comes with the listing (no stat of a name that may be gone), and
  // the suite manifest and its temp file (`_…`) are skipped by name.
  for (const d of fs.readdirSync(runs, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name.startsWith('_')) continue;
    n += fs.readdirSync(path.join(runs, d.name)).filter((f) => f.endsWith('.arrow')).length;
  }
  return n;
}

/** Rows per condition of the `n` smallest sample ids, keyed without
 * timings or experiment timestamps. */
function snapshot(dbFile: string, n: number): Map<string, string> {
  const db = new Database(dbFile, { readonly: true });
  const out = new Map<string, string>();
  db.exec(`CREATE TEMP TABLE picked AS SELECT DISTINCT sample_id FROM predictions ORDER BY sample_id LIMIT ${n}`);
  const rows = db.prepare(`SELECT e.condition_name || '_' || coalesce(e.verifier_size, '') AS c, p.sample_id, p.original_scene, p.final_scene, p.final_long_action, p.final_lat_action, p.was_revised, p.final_status, p.n_turns, p.n_tool_calls, p.final_generated_text
    FROM predictions_full p JOIN experiments e USING (experiment_id) WHERE p.sample_id IN picked`).all() as Array<Record<string, unknown>>;
  for (const r of rows) {
    const key = `${r['c']}#${r['sample_id']}`;
    assert.ok(!out.has(key), `duplicate row ${key}`);
    const { c: _c, ...rest } = r;
    out.set(key, JSON.stringify(rest));
  }
  const calls = db.prepare(`SELECT e.condition_name || '_' || coalesce(e.verifier_size, '') AS c, t.sample_id, t.tool_call_order, t.tool_name, t.tool_arguments_json, t.tool_result_json, t.model_revised_after
    FROM tool_calls_full t JOIN experiments e USING (experiment_id) WHERE t.sample_id IN picked`).all() as Array<Record<string, unknown>>;
  for (const r of calls) out.set(`${r['c']}#${r['sample_id']}#call${r['tool_call_order']}`, JSON.stringify(r));
  db.close();
  return out;
}

test('kill -9 mid-run, then --resume: every sample exactly once, same rows as an uninterrupted run', async (t) => {
  const fixture = await sharedFixture();
  const clean = await sharedRun();

  // kill -9 at a seeded moment: as soon as a poll sees a seeded number of
  // run files (3 to 38 of 156) on disk, which falls between or inside a
  // batch's writes (no fixed sleep: the count, not the clock, places it). A run that
  // finished before the kill proves nothing: then the next attempt, in a
  // fresh folder, kills sooner (none of this depends on luck to pass).
  const rand = rng(Number(process.env['TCE_RESUME_SEED'] ?? 62));
  let dir = '';
  let cfg = '';
  let killedMidRun = false;
  for (let attempt = 0; attempt < 6 && !killedMidRun; attempt++) {
    dir = tmpDir('tce-resume-killed-');
    cfg = writeTestConfig(dir, fixture, SMALL_BATCHES);
    const runs = path.join(dir, 'tool_calling_experiment', 'runs');
    const child = spawn(process.execPath, [TCE_BIN, ...RUN, '--config', cfg], { cwd: dir, detached: true, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let running = true;
    void exited.then(() => { running = false; });
    const target = Math.max(1, (3 + Math.floor(rand() * 36)) >> attempt);
    const deadline = Date.now() + 120_000;
    while (running && committedFiles(runs) < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch { /* already gone: it finished */ }
    killedMidRun = (await exited) === 'SIGKILL';
    if (!killedMidRun) t.diagnostic(`attempt ${attempt + 1}: the run finished before the kill; again, sooner`);
    else t.diagnostic(`killed after ${committedFiles(runs)} committed files (target ${target})`);
  }
  assert.ok(killedMidRun, 'every attempt finished before it could be killed: raise N');

  const b = await tce([...RUN, '--config', cfg, '--resume'], { cwd: dir });
  assert.equal(b.status, 0, b.stderr);
  const ids = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true }).prepare('SELECT experiment_id FROM experiments').all() as Array<{ experiment_id: string }>;
  assert.equal(new Set(ids.map((x) => x.experiment_id.slice(-15))).size, 1, 'the resumed run continued the killed suite');

  const want = snapshot(path.join(clean, 'tool_calling_experiment', 'tool_calling.db'), N);
  const got = snapshot(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), N);
  const predKeys = [...got.keys()].filter((k) => !k.includes('#call'));
  assert.equal(predKeys.length, 13 * N); // 11 conditions and the two no_tools controls
  assert.equal(got.size, want.size);
  for (const [k, v] of want) assert.equal(got.get(k), v, `row ${k} differs after resume`);
});
