import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sample } from './4-tools-fixture';
import { computeToolStats } from '../src/tools/stats';
import { invokeTool } from '../src/tools/invoke';
import { loadToolSet } from '../src/tools/registry';
import { TOOL_NAMES } from '../src/protocol/tools';
import type { OracleTruth } from '../src/tools/types';

const tools = loadToolSet();
// Statistics that would say the opposite of the truth: the oracle must not use them.
const stats = computeToolStats([sample(1, 'incident_zone', 'stop', 'null', [[0, 0]])], new Map(), {});
const TRUTH: OracleTruth = { scene: 'nominal', longAction: 'null', latAction: 'null', firstWaypoint: [4, 0.5] };

async function oracle(name: string, args: object, truth: OracleTruth = TRUTH): Promise<Record<string, unknown>> {
  const out = await invokeTool({ id: 7, sampleId: 1, name, arguments: args, offered: TOOL_NAMES, oracle: truth }, tools, stats, 1000);
  assert.equal(out.validity.error, null, out.responseJson);
  assert.equal(out.id, 7);
  return JSON.parse(out.responseJson) as Record<string, unknown>;
}

test('scene oracles answer from the ground truth bound to the call', async () => {
  for (const name of ['check_scene_prior', 'check_confusion_risk']) {
    const wrong = await oracle(name, { predicted_scene: 'incident_zone' });
    assert.deepEqual({ ...wrong, note: undefined }, { predicted_scene: 'incident_zone', is_correct: false, true_scene: 'nominal', verdict: 'implausible', alternative_scene: 'nominal', note: undefined });
    assert.match(String(wrong['note']), /the scene is nominal, not incident_zone/);
    const right = await oracle(name, { predicted_scene: 'nominal' });
    assert.equal(right['is_correct'], true);
    assert.equal(right['verdict'], 'plausible');
    assert.equal(right['alternative_scene'], null);
  }
  const unlabelled = await oracle('check_scene_prior', { predicted_scene: 'nominal' }, { ...TRUTH, scene: null });
  assert.equal(unlabelled['is_correct'], null);
  assert.equal(unlabelled['verdict'], 'doubtful');
});

test('scene-action oracle checks each field', async () => {
  const r = await oracle('check_scene_action_compatibility', { scene: 'incident_zone', long_action: 'slowdown', lat_action: 'null' });
  assert.equal(r['scene_correct'], false);
  assert.equal(r['long_action_correct'], false);
  assert.equal(r['lat_action_correct'], true);
  assert.equal(r['true_long_action'], 'null');
  assert.equal(r['verdict'], 'implausible');
  assert.equal(r['alternative_scene'], 'nominal');
  const ok = await oracle('check_scene_action_compatibility', { scene: 'nominal', long_action: 'null', lat_action: 'null' });
  assert.equal(ok['verdict'], 'plausible');
});

test('waypoint oracle measures the distance to the true first waypoint', async () => {
  const close = await oracle('check_waypoint_feasibility', { scene: 'nominal', long_action: 'null', first_waypoint_x: 4.3, first_waypoint_y: 0.9 });
  assert.equal(close['error_m'], 0.5); // hypot(0.3, 0.4)
  assert.deepEqual(close['true_first_waypoint'], [4, 0.5]);
  assert.equal(close['verdict'], 'plausible');
  const mid = await oracle('check_waypoint_feasibility', { scene: 'nominal', long_action: 'null', first_waypoint_x: 6, first_waypoint_y: 0.5 });
  assert.equal(mid['verdict'], 'doubtful');
  const far = await oracle('check_waypoint_feasibility', { scene: 'flooded', long_action: 'null', first_waypoint_x: 10, first_waypoint_y: 0.5 });
  assert.equal(far['verdict'], 'implausible');
  assert.equal(far['alternative_scene'], 'nominal');
  const none = await oracle('check_waypoint_feasibility', { scene: 'nominal', long_action: 'null', first_waypoint_x: 0, first_waypoint_y: 0 }, { ...TRUTH, firstWaypoint: null });
  assert.equal(none['verdict'], 'doubtful');
});

test('oracle calls are validated exactly like statistical ones', async () => {
  const out = await invokeTool({ id: 1, sampleId: 1, name: 'check_scene_prior', arguments: { predicted_scene: 'Nominal' }, offered: TOOL_NAMES, oracle: TRUTH }, tools, stats, 1000);
  assert.equal(out.validity.schemaValid, false);
  assert.ok(!out.responseJson.includes('true_scene'), 'no ground truth leaks through an error');
});
