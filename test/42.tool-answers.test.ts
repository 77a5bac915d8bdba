import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publishedFixture, sample } from './4-tools-fixture';
import { computeToolStats, type ToolStats } from '../src/tools/stats';
import { invokeTool } from '../src/tools/invoke';
import { loadToolSet } from '../src/tools/registry';
import { TOOL_NAMES } from '../src/protocol/tools';

const tools = loadToolSet();
const { samples, greedy } = publishedFixture();
const published = computeToolStats(samples, greedy, {});

async function ask(stats: ToolStats, name: string, args: unknown): Promise<Record<string, unknown>> {
  const out = await invokeTool({ id: 1, sampleId: 1, name, arguments: args, offered: TOOL_NAMES }, tools, stats, 1000);
  assert.equal(out.validity.error, null, out.responseJson);
  assert.ok(out.responseJson.length < 700, `compact response (${out.responseJson.length} chars)`);
  return JSON.parse(out.responseJson) as Record<string, unknown>;
}

test('check_confusion_risk: P(gt != pred | pred) and P(pred | gt) of the most-confused class', async () => {
  const r = await ask(published, 'check_confusion_risk', { predicted_scene: 'incident_zone' });
  assert.equal(r['p_wrong_given_pred'], 0.959); // 3866/4032
  assert.deepEqual(r['wrong_given_pred'], [3866, 4032]);
  assert.equal(r['confused_with'], 'nominal');
  assert.equal(r['p_confused_with_given_pred'], 0.844); // 3404/4032
  assert.equal(r['p_pred_given_confused_with'], 0.506); // 3404/6728, the plan's 50.6%
  assert.deepEqual(r['pred_given_confused_with'], [3404, 6728]);
  assert.equal(r['true_scene_missed_as'], 'nominal'); // 103/322
  assert.equal(r['p_true_scene_missed_as'], 0.32);
  assert.equal(r['verdict'], 'implausible');
  assert.equal(r['alternative_scene'], 'nominal');
  assert.match(String(r['note']), /95\.9% of incident_zone predictions are wrong \(3866\/4032\).*50\.6% of nominal scenes/);

  const fl = await ask(published, 'check_confusion_risk', { predicted_scene: 'flagger' });
  // Flagger predictions: 457 - 7 unlabelled = 450 labelled, 363 right: 87/450 = 0.193 wrong.
  assert.deepEqual(fl['wrong_given_pred'], [87, 450]);
  assert.equal(fl['p_wrong_given_pred'], 0.193);
  assert.equal(fl['confused_with'], 'incident_zone'); // 39 of the 87
  assert.equal(fl['p_pred_given_confused_with'], 0.121); // 39/322
  assert.equal(fl['true_scene_missed_as'], 'incident_zone'); // 221/660, the plan's 33.5%
  assert.equal(fl['p_true_scene_missed_as'], 0.335);
  assert.equal(fl['verdict'], 'plausible');
  assert.equal(fl['alternative_scene'], null);
});

test('check_scene_prior: base rates over all 8,613 samples and over-prediction', async () => {
  const iz = await ask(published, 'check_scene_prior', { predicted_scene: 'incident_zone' });
  assert.equal(iz['base_rate'], 0.037); // 322/8613
  assert.equal(iz['gt_count'], 322);
  assert.equal(iz['samples'], 8613);
  assert.equal(iz['predicted_share'], 0.468); // 4032/8613
  assert.equal(iz['over_prediction'], 12.522); // 4032/322, the plan's "12.5x"
  assert.equal(iz['most_common_scene'], 'nominal');
  assert.equal(iz['most_common_rate'], 0.781); // 6728/8613
  assert.equal(iz['verdict'], 'implausible');
  assert.equal(iz['alternative_scene'], 'nominal');
  assert.match(String(iz['note']), /3\.7% of ground truth \(322\/8613\) but 46\.8% of predictions, 12\.5x over-predicted/);
  const nominal = await ask(published, 'check_scene_prior', { predicted_scene: 'nominal' });
  assert.equal(nominal['verdict'], 'plausible');
  assert.equal(nominal['alternative_scene'], null);
  const expectRates: Record<string, number> = { flagger: 0.077, flooded: 0.072, mounted_police: 0.032 }; // the plan's CLASS_FREQUENCIES
  for (const [scene, rate] of Object.entries(expectRates)) {
    const r = await ask(published, 'check_scene_prior', { predicted_scene: scene });
    assert.equal(r['base_rate'], rate, scene);
    assert.equal(r['verdict'], 'doubtful', `${scene}: rare but not over-predicted`);
    assert.equal(r['alternative_scene'], 'nominal');
  }
});

test('check_scene_action_compatibility: observed share, typical actions, and where an unseen pair belongs', async () => {
  const seen = await ask(published, 'check_scene_action_compatibility', { scene: 'flagger', long_action: 'stop', lat_action: 'null' });
  assert.equal(seen['observed'], true);
  assert.equal(seen['count'], 391);
  assert.equal(seen['scene_total'], 660);
  assert.equal(seen['share'], 0.592); // 391/660
  assert.deepEqual(seen['typical_actions'], [
    { long_action: 'stop', lat_action: 'null', share: 0.592 }, { long_action: 'slowdown', lat_action: 'null', share: 0.288 }, { long_action: 'proceed', lat_action: 'null', share: 0.12 },
  ]);
  assert.equal(seen['verdict'], 'plausible');
  assert.equal(seen['alternative_scene'], null);
  const unseen = await ask(published, 'check_scene_action_compatibility', { scene: 'incident_zone', long_action: 'null', lat_action: 'null' });
  assert.equal(unseen['observed'], false);
  assert.equal(unseen['count'], 0);
  assert.equal(unseen['verdict'], 'implausible');
  assert.equal(unseen['alternative_scene'], 'nominal'); // (null, null): nominal 6728 > mounted_police 272
  const rare = await ask(published, 'check_scene_action_compatibility', { scene: 'incident_zone', long_action: 'proceed', lat_action: 'lc_right' });
  assert.equal(rare['share'], 0.012); // 4/322
  assert.equal(rare['verdict'], 'doubtful');
  assert.equal(rare['alternative_scene'], null, 'no other scene has (proceed, lc_right)');
});

test('check_waypoint_feasibility: typical / unusual / outside against p5..p95 and p1..p99', async () => {
  // flooded/slowdown: x = 0..20, y = -x/10 -> x p1 0.2, p5 1, p95 19, p99 19.8; y p5 -1.9, p95 -0.1.
  // flagger/slowdown: x = 20..40, y = -x/10 -> x p5 21, p95 39; y p5 -3.9, p95 -2.1.
  const wp = [
    ...Array.from({ length: 21 }, (_, i) => sample(i, 'flooded', 'slowdown', 'null', [[i, -i / 10]])),
    ...Array.from({ length: 21 }, (_, i) => sample(100 + i, 'flagger', 'slowdown', 'null', [[20 + i, -(20 + i) / 10]])),
    ...Array.from({ length: 3 }, (_, i) => sample(200 + i, 'incident_zone', 'stop', 'null', [[0, 0]])),
  ];
  const stats = computeToolStats(wp, new Map(), {});
  const at = (scene: string, long_action: string, x: number, y: number) => ask(stats, 'check_waypoint_feasibility', { scene, long_action, first_waypoint_x: x, first_waypoint_y: y });
  const ok = await at('flooded', 'slowdown', 10, -1);
  assert.equal(ok['x_position'], 'typical');
  assert.equal(ok['verdict'], 'plausible');
  assert.equal(ok['feasible'], true);
  assert.deepEqual(ok['typical_x'], { p1: 0.2, p5: 1, p50: 10, p95: 19, p99: 19.8 });
  assert.equal(ok['samples'], 21);
  assert.equal(ok['alternative_scene'], null);
  const edge = await at('flooded', 'slowdown', 19.5, -1);
  assert.equal(edge['x_position'], 'unusual');
  assert.equal(edge['verdict'], 'doubtful');
  const out = await at('flooded', 'slowdown', 25, -2.5);
  assert.equal(out['x_position'], 'outside');
  assert.equal(out['y_position'], 'outside');
  assert.equal(out['verdict'], 'implausible');
  assert.equal(out['feasible'], false);
  assert.equal(out['alternative_scene'], 'flagger', 'the point is typical for flagger/slowdown');
  const few = await at('incident_zone', 'stop', 0, 0);
  assert.equal(few['verdict'], 'doubtful');
  assert.equal(few['samples'], 3);
  assert.match(String(few['note']), /Only 3 ground-truth samples/);
  const none = await at('nominal', 'proceed', 0, 0);
  assert.equal(none['samples'], 0);
  assert.equal(none['verdict'], 'doubtful');
});

test('every statistical response carries verdict, and scene tools alternative_scene', async () => {
  const calls: Array<[string, object]> = [
    ['check_scene_prior', { predicted_scene: 'flooded' }],
    ['check_confusion_risk', { predicted_scene: 'mounted_police' }],
    ['check_scene_action_compatibility', { scene: 'nominal', long_action: 'stop', lat_action: 'lc_left' }],
    ['check_waypoint_feasibility', { scene: 'nominal', long_action: 'null', first_waypoint_x: 1, first_waypoint_y: 0 }],
  ];
  for (const [name, args] of calls) {
    const r = await ask(published, name, args);
    assert.ok(['plausible', 'doubtful', 'implausible'].includes(String(r['verdict'])), name);
    assert.ok('alternative_scene' in r, name);
    assert.equal(typeof r['note'], 'string');
    assert.ok(!String(r['note']).includes('\n'), 'one-line note');
  }
});
