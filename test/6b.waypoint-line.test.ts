import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { verificationPrompt, waypointLine } from '../src/protocol/prompts';
import { experimentParts, storedRequestOf } from '../src/store/request-parts';

// The plan's "Verification Prompt Template (Pipeline A)", copied verbatim
// (spec 000), placeholders filled by the test.
const PLAN = `You are a driving scene verification system. A prediction model has analyzed dashcam images and made predictions about the scene. Your job is to verify these predictions using the provided tools, then output your corrected predictions.

The model predicted:
- Scene type: {predicted_scene}
- Longitudinal action: {predicted_long_action}
- Lateral action: {predicted_lat_action}

Use the available tools to check whether these predictions are reasonable. After checking, provide your final corrected predictions in this exact format:

FINAL_SCENE: <scene_type>
FINAL_LONG_ACTION: <action>
FINAL_LAT_ACTION: <action>
REVISED: <yes|no>
REASON: <brief explanation>`;

const plan = (s: string | null, l: string | null, a: string | null): string =>
  PLAN.replace('{predicted_scene}', s ?? 'unparseable').replace('{predicted_long_action}', l ?? 'unparseable').replace('{predicted_lat_action}', a ?? 'unparseable');

type R = Record<string, unknown>;

function promptText(db: Database.Database, experimentId: unknown, requestJson: unknown): string {
  const req = storedRequestOf(requestJson as string, experimentParts(db, String(experimentId))) as { messages: Array<{ content: Array<{ type: string; text?: string }> | string }> };
  const c = req.messages[0]!.content;
  return typeof c === 'string' ? c : c.find((p) => p.type === 'text')!.text!;
}

test('the waypoint line: one line after the lateral action; none without waypoints; the plan byte for byte without it', () => {
  const p = { scene: 'flagger', longAction: 'stop', latAction: 'null' };
  assert.equal(verificationPrompt(p), plan('flagger', 'stop', 'null'));
  const line = waypointLine([[1.5, 0.02], [3, 0.04]]);
  assert.equal(line, '- Predicted first waypoint: (1.5, 0.02); all waypoints: [[1.5,0.02],[3,0.04]]');
  assert.equal(verificationPrompt(p, line), plan('flagger', 'stop', 'null').replace('- Lateral action: null\n', `- Lateral action: null\n${line}\n`));
  assert.equal(waypointLine(null), null);
  assert.equal(waypointLine([]), null);
});

async function run(planVerbatim: boolean): Promise<Database.Database> {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-wp-');
  const cfg = writeTestConfig(dir, fixture, planVerbatim ? { prompts: { planVerbatim: true } } : {});
  const r = await tce(['run', '--config', cfg, '--limit', '16', '--conditions', 'baseline,all_tools_2b,prior_only_2b', '--quiet', '--no-report'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
}

const FIRST_TURNS = `SELECT t.experiment_id AS eid, e.condition_name AS cond, t.sample_id, t.request_json, b.original_scene AS s, b.original_long_action AS l, b.original_lat_action AS a, b.original_waypoints_json AS wp
  FROM turns_full t JOIN experiments e USING (experiment_id)
  JOIN predictions_full b ON b.sample_id = t.sample_id AND b.experiment_id = (SELECT experiment_id FROM experiments WHERE condition_name = 'baseline')
  WHERE t.turn_index = 0 AND e.condition_name IN ('all_tools', 'prior_only')`;

test('all_tools prompts show the predicted waypoints and the simulated verifier checks those; prior_only prompts are the plan\'s', async () => {
  const db = await run(false);
  const rows = db.prepare(FIRST_TURNS).all() as R[];
  assert.equal(rows.length, 32);
  let shown = 0;
  for (const r of rows) {
    const wp = r['wp'] === null ? null : JSON.parse(String(r['wp'])) as Array<[number, number]>;
    const line = r['cond'] === 'all_tools' ? waypointLine(wp) : null;
    if (line) shown++;
    assert.equal(promptText(db, r['eid'], r['request_json']), verificationPrompt({ scene: r['s'] as string | null, longAction: r['l'] as string | null, latAction: r['a'] as string | null }, line), `${String(r['cond'])} sample ${String(r['sample_id'])}`);
  }
  assert.ok(shown >= 8, `only ${shown} all_tools prompts showed waypoints`);
  const calls = db.prepare(`SELECT c.sample_id, c.tool_arguments_json AS args, b.original_waypoints_json AS wp FROM tool_calls_full c JOIN experiments e USING (experiment_id)
    JOIN predictions_full b ON b.sample_id = c.sample_id AND b.experiment_id = (SELECT experiment_id FROM experiments WHERE condition_name = 'baseline')
    WHERE e.condition_name = 'all_tools' AND c.tool_name = 'check_waypoint_feasibility' AND c.executed_ok = 1 AND b.original_waypoints_json IS NOT NULL`).all() as R[];
  assert.ok(calls.length > 0, 'no waypoint tool calls to check');
  for (const c of calls) {
    const args = JSON.parse(String(c['args'])) as R;
    const first = (JSON.parse(String(c['wp'])) as Array<[number, number]>)[0]!;
    assert.deepEqual([args['first_waypoint_x'], args['first_waypoint_y']], first, `sample ${String(c['sample_id'])}`);
  }
  db.close();
});

test('prompts.planVerbatim: every verification prompt is the plan\'s template, byte for byte', async () => {
  const db = await run(true);
  const rows = db.prepare(FIRST_TURNS).all() as R[];
  assert.equal(rows.length, 32);
  for (const r of rows) assert.equal(promptText(db, r['eid'], r['request_json']), plan(r['s'] as string | null, r['l'] as string | null, r['a'] as string | null));
  db.close();
});
