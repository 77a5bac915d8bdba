// Hostile or contradictory dataset values: NaN waypoints, a terminal escape
// in a label, two sources disagreeing on ground truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { throwsTce } from './3-data-helpers';
import { MdsWriter } from '../src/data/mds/writer';
import { readMdsSamples } from '../src/data/mds-source';
import { loadExperimentData } from '../src/data/load';
import { FIXTURE_MAPPING } from '../src/data/fixture/synth';
import { SAMPLE_FIELDS, type SampleField } from '../src/data/sample-fields';
import { ConfigSchema } from '../src/config/schema';
import { TceError } from '../src/util/errors';

/** Only these fields mapped (to columns of the same name); the rest absent. */
function mappingOf(...fields: SampleField[]): Record<SampleField, string> {
  return Object.fromEntries(SAMPLE_FIELDS.map((f) => [f, fields.includes(f) ? f : ''])) as Record<SampleField, string>;
}

test('L4: a NaN in waypoints_gt (float32 ndarray) is rejected with file, sample and field', () => {
  const dir = tmpDir('tce-nan-');
  const w = new MdsWriter(dir, { columns: { sample_id: 'int', waypoints_gt: 'ndarray:float32:2,2' } });
  w.write({ sample_id: 0, waypoints_gt: { kind: 'ndarray', dtype: 'float32', shape: [2, 2], data: [0, 1, 2, 3] } });
  w.write({ sample_id: 1, waypoints_gt: { kind: 'ndarray', dtype: 'float32', shape: [2, 2], data: [0, 1, Number.NaN, 3] } });
  w.finish();
  throwsTce(() => readMdsSamples(dir, mappingOf('sample_id', 'waypoints_gt')), 'DATA_ROW', new RegExp(`${path.basename(dir)}: sample 1, field 'waypoints_gt'.*waypoint 1 is \\[NaN, 3\\]: expected finite numbers`));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('L2: a terminal escape in a dataset value reaches the terminal escaped', async () => {
  const dir = tmpDir('tce-esc-');
  const mds = path.join(dir, 'mds');
  const w = new MdsWriter(mds, { columns: { sample_id: 'int', scene_type_gt: 'str' } });
  w.write({ sample_id: 0, scene_type_gt: 'nominal\u001b[2J\u0007' });
  w.finish();
  const cfg = writeTestConfig(dir, path.join(dir, 'unused'), { dataset: { source: 'mds', path: mds, mapping: mappingOf('sample_id', 'scene_type_gt') } });
  const r = await tce(['run', '--config', cfg, '--conditions', 'oracle_8b', '--quiet'], { cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /tce: error: .*field 'scene_type_gt'.*nominal\\u001b\[2J\\u0007/);
  assert.doesNotMatch(r.stderr, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'no raw control character');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('L4: MDS and self_consistency.db disagreeing on ground truth is reported with the sample and both values', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-gt-');
  const sc = path.join(dir, 'self_consistency.db');
  fs.copyFileSync(path.join(fixture, 'self_consistency.db'), sc);
  const db = new Database(sc);
  const row = db.prepare(`SELECT sample_id, scene_type_gt FROM predictions WHERE scene_type_gt = 'nominal' ORDER BY sample_id LIMIT 1`).get() as { sample_id: number };
  db.prepare(`UPDATE predictions SET scene_type_gt = 'flooded' WHERE sample_id = ?`).run(row.sample_id);
  db.close();
  const config = ConfigSchema.parse({ dataset: { source: 'mds', path: path.join(fixture, 'mds'), selfConsistencyDb: sc, mapping: FIXTURE_MAPPING } });
  await assert.rejects(loadExperimentData(config), (e: unknown) => {
    assert.ok(e instanceof TceError && e.code === 'GT_MISMATCH', String(e));
    assert.match(e.message, new RegExp(`disagree on the ground truth of 1 of 8613 samples \\(sample_id ${row.sample_id} sceneGt: "nominal" vs "flooded"\\)`));
    assert.ok(e.message.includes(sc));
    return true;
  });
  fs.rmSync(dir, { recursive: true, force: true });
});
