import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';

// One synthetic fixture for the whole file: `tce build-tools` with no --from
// generates it under paths.fixtureDir of the working directory.
const dir = tmpDir('tce-tools-cli-');
const run = (args: string[]) => tce(args, { cwd: dir });
const fixtureDb = path.join(dir, 'tool_calling_experiment', 'fixture', 'self_consistency.db');

test('tce build-tools builds from the fixture; twice gives identical bytes; --cross-fit adds folds', () => {
  const first = run(['build-tools']);
  assert.equal(first.status, 0, first.stderr);
  const out = path.join(dir, 'tool_calling_experiment', 'tool_stats.json');
  assert.match(first.stdout, /8613 samples \(8600 labelled, 8613 with a greedy prediction\), mode in_sample/);
  const again = run(['build-tools', '--from', fixtureDb, '--out', 'again.json']);
  assert.equal(again.status, 0, again.stderr);
  const a = fs.readFileSync(out);
  const stats = JSON.parse(a.toString()) as { source: { file: string; sha256: string }; sampleCount: number };
  assert.equal(stats.sampleCount, 8613);
  assert.match(stats.source.sha256, /^[0-9a-f]{64}$/);
  // The recorded source path differs (default vs --from), everything else is equal.
  const b = JSON.parse(fs.readFileSync(path.join(dir, 'again.json'), 'utf8')) as typeof stats;
  assert.deepEqual({ ...b, source: null }, { ...stats, source: null });
  const third = run(['build-tools', '--from', fixtureDb, '--out', 'third.json']);
  assert.equal(third.status, 0, third.stderr);
  assert.ok(fs.readFileSync(path.join(dir, 'third.json')).equals(fs.readFileSync(path.join(dir, 'again.json'))), 'same input, same bytes');
  const cf = run(['build-tools', '--from', fixtureDb, '--out', 'cf.json', '--cross-fit', '5']);
  assert.equal(cf.status, 0, cf.stderr);
  assert.match(cf.stdout, /mode cross_fit_5/);
  const bad = run(['build-tools', '--from', 'nope.db']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /nope\.db/);
});

test('tce tool reports the acceptance figures on the fixture statistics', () => {
  const r = run(['tool', 'check_confusion_risk', '{"predicted_scene": "incident_zone"}']);
  assert.equal(r.status, 0, r.stderr);
  const body = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(body['wrong_given_pred'], [3866, 4032]);
  assert.equal(body['p_wrong_given_pred'], 0.959);
  assert.deepEqual(body['pred_given_confused_with'], [3404, 6728]);
  assert.equal(body['p_pred_given_confused_with'], 0.506);
  assert.equal(body['verdict'], 'implausible');
});

test('tce tool: invalid calls print the error response and exit 1; oracle answers from the sample', () => {
  const bad = run(['tool', 'check_scene_prior', '{"predicted_scene": "highway"}']);
  assert.equal(bad.status, 1);
  assert.match(JSON.parse(bad.stdout).error as string, /'predicted_scene' must be nominal\|/);
  assert.match(bad.stderr, /invalid_args/);
  const unknown = run(['tool', 'check_weather', '{}']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stdout, /unknown tool 'check_weather'/);
  const usage = run(['tool', 'check_scene_prior', '{}', '--oracle']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--oracle needs --sample-id/);
  const noStats = run(['tool', 'check_scene_prior', '{"predicted_scene": "nominal"}', '--stats', 'missing.json']);
  assert.equal(noStats.status, 1);
  assert.match(noStats.stderr, /missing\.json/);
  const oracle = run(['tool', 'check_scene_prior', '{"predicted_scene": "incident_zone"}', '--oracle', '--sample-id', '5']);
  assert.equal(oracle.status, 0, oracle.stderr);
  const o = JSON.parse(oracle.stdout) as Record<string, unknown>;
  assert.equal(typeof o['is_correct'], 'boolean');
  assert.equal(o['alternative_scene'], o['is_correct'] ? null : o['true_scene']);
  const none = run(['tool', 'check_scene_prior', '{"predicted_scene": "nominal"}', '--oracle', '--sample-id', '999999']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no sample with sample_id 999999/);
});
