import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeDefaultConfig } from './helpers/fixture';

// The shared synthetic fixture, named by the working directory's default
// config (tool_calling_experiment/config.json); outputs stay in `dir`.
const dir = tmpDir('tce-tools-cli-');
const run = (args: string[]) => tce(args, { cwd: dir });
let fixtureDb: string;
before(async () => {
  const fixture = await sharedFixture();
  writeDefaultConfig(dir, fixture);
  fixtureDb = path.join(fixture, 'self_consistency.db');
});

test('tce build-tools builds from the fixture; twice gives identical bytes; --cross-fit adds folds', async () => {
  const first = await run(['build-tools']);
  assert.equal(first.status, 0, first.stderr);
  const out = path.join(dir, 'tool_calling_experiment', 'tool_stats.json');
  assert.match(first.stdout, /8613 samples \(8600 labelled, 8613 with a greedy prediction\), mode in_sample/);
  const again = await run(['build-tools', '--from', fixtureDb, '--out', 'again.json']);
  assert.equal(again.status, 0, again.stderr);
  const a = fs.readFileSync(out);
  const stats = JSON.parse(a.toString()) as { source: { file: string; sha256: string }; sampleCount: number };
  assert.equal(stats.sampleCount, 8613);
  assert.match(stats.source.sha256, /^[0-9a-f]{64}$/);
  // The default source is the file --from names: two builds of the same
  // input, by either route, write the same bytes (the source path included).
  assert.equal(stats.source.file, fixtureDb);
  assert.ok(fs.readFileSync(path.join(dir, 'again.json')).equals(a), 'same input, same bytes');
  const cf = await run(['build-tools', '--from', fixtureDb, '--out', 'cf.json', '--cross-fit', '5']);
  assert.equal(cf.status, 0, cf.stderr);
  assert.match(cf.stdout, /mode cross_fit_5/);
  const bad = await run(['build-tools', '--from', 'nope.db']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /nope\.db/);
});

test('tce tool reports the acceptance figures on the fixture statistics', async () => {
  const r = await run(['tool', 'check_confusion_risk', '{"predicted_scene": "incident_zone"}']);
  assert.equal(r.status, 0, r.stderr);
  const body = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(body['wrong_given_pred'], [3866, 4032]);
  assert.equal(body['p_wrong_given_pred'], 0.959);
  assert.deepEqual(body['pred_given_confused_with'], [3404, 6728]);
  assert.equal(body['p_pred_given_confused_with'], 0.506);
  assert.equal(body['verdict'], 'implausible');
});

test('tce tool: invalid calls print the error response and exit 1; oracle answers from the sample', async () => {
  const bad = await run(['tool', 'check_scene_prior', '{"predicted_scene": "highway"}']);
  assert.equal(bad.status, 1);
  assert.match(JSON.parse(bad.stdout).error as string, /'predicted_scene' must be nominal\|/);
  assert.match(bad.stderr, /invalid_args/);
  const unknown = await run(['tool', 'check_weather', '{}']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stdout, /unknown tool 'check_weather'/);
  const usage = await run(['tool', 'check_scene_prior', '{}', '--oracle']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--oracle needs --sample-id/);
  const noStats = await run(['tool', 'check_scene_prior', '{"predicted_scene": "nominal"}', '--stats', 'missing.json']);
  assert.equal(noStats.status, 1);
  assert.match(noStats.stderr, /missing\.json/);
  const oracle = await run(['tool', 'check_scene_prior', '{"predicted_scene": "incident_zone"}', '--oracle', '--sample-id', '5']);
  assert.equal(oracle.status, 0, oracle.stderr);
  const o = JSON.parse(oracle.stdout) as Record<string, unknown>;
  assert.equal(typeof o['is_correct'], 'boolean');
  assert.equal(o['alternative_scene'], o['is_correct'] ? null : o['true_scene']);
  const none = await run(['tool', 'check_scene_prior', '{"predicted_scene": "nominal"}', '--oracle', '--sample-id', '999999']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no sample with sample_id 999999/);
});
