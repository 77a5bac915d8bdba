import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir, hasPython3, python3 } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { SHARED_RUN_SAMPLES, sharedRun, sharedRunStdout } from './helpers/shared-run';
import { PLAN_VALIDATION_SNIPPETS } from './helpers/plan-validation';
import { PartsCache, storedParamsOf } from '../src/store/request-parts';

const N = SHARED_RUN_SAMPLES;

test('tce run: all 11 conditions and the two no_tools controls end to end on the simulator (pipelines A and B)', async () => {
  // The shared run (helpers/shared-run.ts), read only: `tce run --limit 24
  // --force` with the default conditions and reports. --force: with 24
  // samples some classes are absent, so macro-F1 over the five classes
  // cannot reach the gate (the gate has its own test below).
  const dir = await sharedRun();
  assert.match(sharedRunStdout(dir), /SIMULATED/);
  const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  const exps = db.prepare('SELECT experiment_id, condition_name, verifier_size, status, synthetic, backend FROM experiments ORDER BY experiment_id').all() as Array<Record<string, unknown>>;
  assert.equal(exps.length, 13);
  for (const e of exps) {
    assert.equal(e['status'], 'completed', String(e['experiment_id']));
    assert.equal(e['synthetic'], 1);
    assert.match(String(e['experiment_id']), /^tc_[a-z_]+(_[28]b)?_\d{8}_\d{6}$/);
  }
  const counts = db.prepare('SELECT experiment_id, count(*) AS n, count(DISTINCT sample_id) AS d FROM predictions GROUP BY 1').all() as Array<{ n: number; d: number }>;
  assert.equal(counts.length, 13);
  for (const c of counts) assert.deepEqual([c.n, c.d], [N, N]);

  // every condition that offers tools made tool calls; the baseline and the no_tools controls made none
  const calls = db.prepare(`SELECT e.condition_name AS c, e.verifier_size AS s, count(t.id) AS n FROM experiments e LEFT JOIN tool_calls t ON t.experiment_id = e.experiment_id GROUP BY e.experiment_id`).all() as Array<{ c: string; s: string | null; n: number }>;
  for (const x of calls) {
    if (x.c === 'baseline' || x.c === 'no_tools') assert.equal(x.n, 0, `${x.c}_${x.s}`);
    else assert.ok(x.n > 0, `${x.c}_${x.s} made no tool calls`);
  }
  // tools offered match the condition
  const offTool = db.prepare(`SELECT count(*) AS n FROM tool_calls t JOIN experiments e USING (experiment_id) WHERE e.condition_name = 'prior_only' AND t.tool_name NOT IN ('check_scene_prior', '<unparsed>') AND t.executed_ok = 1`).get() as { n: number };
  assert.equal(offTool.n, 0, 'prior_only executed a tool it did not offer');

  // tools_enabled lists exactly the tools offered to the model over the experiment's turns
  const offered = db.prepare(`SELECT e.experiment_id AS id, e.tools_enabled AS enabled, t.request_json AS req, t.request_params AS params FROM experiments e LEFT JOIN turns_full t USING (experiment_id)`).all() as Array<{ id: string; enabled: string; req: string | null; params: string | null }>;
  const offeredBy = new Map<string, { enabled: string[]; seen: Set<string> }>();
  const parts = new PartsCache(db);
  for (const o of offered) {
    const e = offeredBy.get(o.id) ?? { enabled: JSON.parse(o.enabled) as string[], seen: new Set<string>() };
    offeredBy.set(o.id, e);
    for (const name of (o.req ? (storedParamsOf(o.req, parts.get(o.id), o.params)['tools'] as string[] | undefined) ?? [] : [])) e.seen.add(name);
  }
  assert.equal(offeredBy.size, 13);
  for (const [id, e] of offeredBy) {
    assert.deepEqual([...e.seen].sort(), [...e.enabled].sort(), `${id}: tools offered vs tools_enabled`);
    if (id.startsWith('tc_staged_')) assert.equal(e.enabled.length, 3, id);
  }

  // the stored was_revised and the reported revision_rate are one definition
  const revision = db.prepare(`SELECT m.experiment_id AS id, m.revision_rate AS rate, avg(p.was_revised) AS mean, m.n_revised AS nRevised, sum(p.was_revised) AS stored
    FROM condition_metrics m JOIN predictions p USING (experiment_id) GROUP BY m.experiment_id`).all() as Array<{ id: string; rate: number; mean: number; nRevised: number; stored: number }>;
  // condition_metrics also holds the staged first answers, which have no rows of their own
  assert.equal(revision.length, 13);
  for (const r of revision) {
    assert.equal(r.stored, r.nRevised, `${r.id}: sum(was_revised) vs n_revised`);
    assert.equal(r.mean, r.rate, `${r.id}: avg(was_revised) vs revision_rate`);
  }
  assert.ok(revision.some((r) => r.stored > 0), 'some experiment revised something');

  // baseline = greedy: never revised; verification rows carry the greedy original
  const base = db.prepare(`SELECT sum(was_revised) AS r, count(*) AS n FROM predictions p JOIN experiments e USING (experiment_id) WHERE e.condition_name = 'baseline'`).get() as { r: number; n: number };
  assert.equal(base.r, 0);
  const mismatch = db.prepare(`SELECT count(*) AS n FROM predictions a JOIN experiments ea USING (experiment_id) JOIN predictions b ON b.sample_id = a.sample_id JOIN experiments eb ON eb.experiment_id = b.experiment_id
    WHERE ea.condition_name = 'baseline' AND eb.pipeline = 'A' AND eb.condition_name != 'baseline' AND coalesce(a.original_scene, '-') != coalesce(b.original_scene, '-')`).get() as { n: number };
  assert.equal(mismatch.n, 0);

  // Pipeline B went through its three stages
  const stages = db.prepare(`SELECT DISTINCT stage FROM turns t JOIN experiments e USING (experiment_id) WHERE e.condition_name = 'staged' ORDER BY stage`).all() as Array<{ stage: string }>;
  assert.deepEqual(stages.map((s) => s.stage), ['stage_action', 'stage_scene', 'stage_waypoints']);

  // every sample ended with a typed status; flips are consistent with correctness
  const statuses = db.prepare(`SELECT DISTINCT final_status AS s FROM predictions`).all() as Array<{ s: string }>;
  for (const s of statuses) assert.ok(['ok', 'no_final_block', 'incomplete', 'invalid_value', 'max_turns', 'server_error', 'timeout'].includes(s.s), s.s);
  const badFlip = db.prepare(`SELECT count(*) AS n FROM predictions WHERE original_flipped_correct = 1 AND final_scene_correct != 1`).get() as { n: number };
  assert.equal(badFlip.n, 0);

  // turns store timing and the request without image bytes
  const t = db.prepare(`SELECT request_json, e2e_ms, ttft_ms, length(chunk_times) AS ct FROM turns_full WHERE stage = 'verify' LIMIT 1`).get() as { request_json: string; e2e_ms: number; ttft_ms: number; ct: number };
  assert.ok(t.e2e_ms > 0 && t.ttft_ms >= 0 && t.ct > 0);
  assert.ok(!t.request_json.includes('base64'));
  assert.match(t.request_json, /\{"\$image":"[0-9a-f]{8}"\}/, 'the image named by the first hex digits of predictions.image_sha256');
  db.close();

  if (hasPython3()) {
    for (const snippet of PLAN_VALIDATION_SNIPPETS) {
      const p = spawnSync(python3()!, ['-c', snippet], { cwd: dir, encoding: 'utf8' });
      assert.equal(p.status, 0, p.stderr);
      assert.ok(p.stdout.split('\n').filter((l) => l.startsWith("('tc_")).length >= 10, p.stdout);
    }
  }
});

// The gate runs at 6 samples: they hold two of the five scene classes, so
// macro-F1 (an absent class counts 0) is at most 0.4, below the 0.999
// threshold as surely as at 12.
const GATE_LIMIT = '6';

test('the oracle gate stops the suite when both oracle F1 are below the threshold, and --force overrides it', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-gate-');
  const cfg = writeTestConfig(dir, fixture, { gate: { threshold: 0.999 } });
  const stopped = await tce(['run', '--config', cfg, '--limit', GATE_LIMIT, '--quiet'], { cwd: dir });
  assert.equal(stopped.status, 0, stopped.stderr);
  assert.match(stopped.stdout, /gated/);
  const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  const conds = (db.prepare('SELECT condition_name AS c FROM experiments').all() as Array<{ c: string }>).map((x) => x.c).sort();
  assert.deepEqual(conds, ['baseline', 'oracle', 'oracle']);
  const d = db.prepare(`SELECT decision, details_json FROM run_decisions WHERE kind = 'oracle_gate'`).get() as { decision: string; details_json: string };
  assert.equal(d.decision, 'stop');
  assert.equal(JSON.parse(d.details_json).oracles.length, 2);
  db.close();

  const dir2 = tmpDir('tce-gate-force-');
  // run.controls false: the plan's 11 conditions only
  const cfg2 = writeTestConfig(dir2, fixture, { gate: { threshold: 0.999 }, run: { controls: false } });
  const forced = await tce(['run', '--config', cfg2, '--limit', GATE_LIMIT, '--quiet', '--force', '--no-report'], { cwd: dir2 });
  assert.equal(forced.status, 0, forced.stderr);
  const db2 = new Database(path.join(dir2, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  assert.equal((db2.prepare('SELECT count(*) AS n FROM experiments').get() as { n: number }).n, 11);
  assert.equal((db2.prepare(`SELECT decision FROM run_decisions`).get() as { decision: string }).decision, 'proceed_forced');
  db2.close();
});
