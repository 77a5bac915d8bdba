import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { experimentParts, storedRequestOf } from '../src/store/request-parts';
import { parsePredictorAnswer } from '../src/extract/predictor-answer';
import { formatPredictorAnswer, type PredictorAnswerSpec } from '../src/protocol/predictor-answer';

const N = 20;
// A checkpoint that answers in JSON with its own keys and spellings.
const SPEC: PredictorAnswerSpec = {
  format: 'json',
  keys: { scene: 'scene_type', longAction: 'longitudinal', latAction: 'lateral', waypoints: 'trajectory' },
  values: { KEEP: 'null' },
};
const TEMPLATE = 'You are SceneIQ-FT. Return one JSON object with scene_type, longitudinal, lateral and trajectory for this dashcam frame.';

type R = Record<string, unknown>;

test('predictor answer spec: JSON keys and value spellings round-trip; lines with renamed keys', () => {
  const text = formatPredictorAnswer({ scene: 'flagger', longAction: 'stop', latAction: 'null', waypoints: '[[0.1, 0], [0.2, 0]]' }, SPEC);
  assert.equal(text, '{"scene_type":"flagger","longitudinal":"stop","lateral":"KEEP","trajectory":[[0.1,0],[0.2,0]]}');
  const a = parsePredictorAnswer(`Sure.\n${text}`, SPEC);
  assert.deepEqual([a.status, a.scene, a.longAction, a.latAction, a.waypoints], ['ok', 'flagger', 'stop', 'null', [[0.1, 0], [0.2, 0]]]);
  const lines: PredictorAnswerSpec = { format: 'lines', keys: { scene: 'Scene Type', longAction: 'Speed', latAction: 'Steer', waypoints: null }, values: {} };
  const b = parsePredictorAnswer('Scene type: Incident Zone\nSPEED: slow down\nSteer: lane change left', lines);
  assert.deepEqual([b.status, b.scene, b.longAction, b.latAction, b.waypoints], ['ok', 'incident_zone', 'slowdown', 'lc_left', null]);
  // The plan's labels are not this checkpoint's: nothing is read.
  assert.equal(parsePredictorAnswer('SCENE: nominal\nLONG_ACTION: stop\nLAT_ACTION: null', SPEC).status, 'missing');
  assert.equal(parsePredictorAnswer('{"scene_type": "banana", "longitudinal": "stop", "lateral": "KEEP"}', SPEC).status, 'invalid_value');
});

test('tce predict (live, configured format) then tce verify: the verifier sees the live predictions and flips count against them', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-live-');
  const tpl = path.join(dir, 'predictor_prompt.txt');
  fs.writeFileSync(tpl, TEMPLATE);
  const cfg = writeTestConfig(dir, fixture, { prompts: { predictor: { template: tpl, ...SPEC } } });
  const p = await tce(['predict', '--config', cfg, '--limit', String(N), '--quiet'], { cwd: dir });
  assert.equal(p.status, 0, p.stderr + p.stdout);
  // The greedy baseline of self_consistency.db, to show the live one differs from it.
  // Its own suite id: in a warm process both predicts can start within one second, and a
  // suite of another configuration may not reuse the first one's timestamp.
  const g = await tce(['predict', '--config', cfg, '--limit', String(N), '--quiet', '--reuse-greedy', '--suite', 'greedy'], { cwd: dir });
  assert.equal(g.status, 0, g.stderr + g.stdout);
  const v = await tce(['verify', '--config', cfg, '--limit', String(N), '--quiet', '--condition', 'all_tools', '--verifier-model', '2b'], { cwd: dir });
  assert.equal(v.status, 0, v.stderr + v.stdout);

  const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  const exps = db.prepare('SELECT experiment_id, condition_name, backend, config_json FROM experiments ORDER BY experiment_id').all() as R[];
  const live = exps.find((e) => e['condition_name'] === 'baseline' && e['backend'] === 'simulator')!;
  const greedy = exps.find((e) => e['condition_name'] === 'baseline' && e['backend'] === 'reused-greedy')!;
  const ver = exps.find((e) => e['condition_name'] === 'all_tools')!;
  assert.ok(live && greedy && ver, JSON.stringify(exps));
  assert.equal((JSON.parse(String(ver['config_json'])) as R)['verified'], `live:${String(live['experiment_id'])}`);

  // The predictor got the template and its JSON answers parsed.
  const req = db.prepare('SELECT request_json FROM turns_full WHERE experiment_id = ? LIMIT 1').get(live['experiment_id']) as R;
  const expanded = (exp: unknown, json: unknown): string => JSON.stringify(storedRequestOf(json as string, experimentParts(db, String(exp))));
  assert.ok(expanded(live['experiment_id'], req['request_json']).includes(JSON.stringify(TEMPLATE).slice(1, -1)));
  const ok = db.prepare("SELECT count(*) AS n FROM predictions_full WHERE experiment_id = ? AND original_status = 'ok' AND original_generated_text LIKE '{\"scene_type\"%'").get(live['experiment_id']) as { n: number };
  assert.ok(ok.n >= N * 0.7, `only ${ok.n} live answers parsed`);

  const rows = db.prepare(`SELECT v.sample_id, l.original_scene AS live_scene, l.original_long_action AS live_long, gr.original_scene AS greedy_scene,
      v.original_scene, v.original_long_action, v.final_scene, v.scene_type_gt AS gt, v.original_flipped_correct AS fc, v.original_flipped_incorrect AS fi
    FROM predictions v JOIN predictions l ON l.sample_id = v.sample_id AND l.experiment_id = ? JOIN predictions gr ON gr.sample_id = v.sample_id AND gr.experiment_id = ?
    WHERE v.experiment_id = ?`).all(live['experiment_id'], greedy['experiment_id'], ver['experiment_id']) as R[];
  assert.equal(rows.length, N);
  assert.ok(rows.some((r) => r['live_scene'] !== r['greedy_scene']), 'the live predictions equal the greedy ones: the test would show nothing');
  for (const r of rows) {
    assert.equal(r['original_scene'], r['live_scene'], `sample ${String(r['sample_id'])}`);
    assert.equal(r['original_long_action'], r['live_long']);
    const first = db.prepare("SELECT request_json FROM turns_full WHERE experiment_id = ? AND sample_id = ? AND turn_index = 0").get(ver['experiment_id'], r['sample_id']) as R;
    assert.ok(expanded(ver['experiment_id'], first['request_json']).includes(`- Scene type: ${String(r['live_scene'] ?? 'unparseable')}`), `sample ${String(r['sample_id'])}: the verifier did not see the live scene`);
    if (r['gt'] === null) continue;
    const was = r['live_scene'] === r['gt'];
    const now = r['final_scene'] === r['gt'];
    assert.deepEqual([r['fc'], r['fi']], [!was && now ? 1 : 0, was && !now ? 1 : 0], `sample ${String(r['sample_id'])}`);
  }
  db.close();
});

test('tce run --live-predict: the baseline runs first and the suite\'s verifiers check its predictions', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-live-run-');
  const cfg = writeTestConfig(dir, fixture);
  const r = await tce(['run', '--config', cfg, '--limit', '12', '--quiet', '--live-predict', '--conditions', 'baseline,prior_only_2b', '--no-report'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  const mismatch = db.prepare(`SELECT count(*) AS n, sum(coalesce(a.original_scene, '-') != coalesce(b.original_scene, '-')) AS bad FROM predictions a JOIN experiments ea USING (experiment_id)
    JOIN predictions b ON b.sample_id = a.sample_id JOIN experiments eb ON eb.experiment_id = b.experiment_id
    WHERE ea.condition_name = 'baseline' AND eb.condition_name = 'prior_only'`).get() as { n: number; bad: number };
  assert.deepEqual([mismatch.n, mismatch.bad], [12, 0]);
  const be = db.prepare("SELECT backend FROM experiments WHERE condition_name = 'baseline'").get() as R;
  assert.equal(be['backend'], 'simulator');
  db.close();
});
