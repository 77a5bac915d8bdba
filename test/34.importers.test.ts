import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PNG } from 'pngjs';
import { tmpDir } from './helpers/cli';
import { throwsTce } from './3-data-helpers';
import { readSelfConsistencyDb, SC_TABLE_SQL } from '../src/data/self-consistency';
import { readJsonlSamples } from '../src/data/jsonl-source';
import { readMdsSamples } from '../src/data/mds-source';
import { loadExperimentData } from '../src/data/load';
import { MdsWriter } from '../src/data/mds/writer';
import { SAMPLE_FIELDS, type SampleField } from '../src/data/sample-fields';
import { ConfigSchema } from '../src/config/schema';
import { imageDataUrl } from '../src/data/image-payload';
import jpeg from 'jpeg-js';

const MAPPING = Object.fromEntries(SAMPLE_FIELDS.map((f) => [f, f])) as Record<SampleField, string>;
const WPS = JSON.stringify([[1, 0], [1.5, 0.25]]);

function row(id: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    experiment_id: 'greedy', sample_id: id, chum_uri: `chum://x/${id}`, scene_type_gt: 'flooded', long_action_gt: 'slowdown', lat_action_gt: 'null', fine_class: 'flooded', odd_label: 'rural', location: 'austin',
    waypoints_gt: WPS, predicted_scene: 'incident_zone', predicted_long_action: 'stop', predicted_lat_action: 'null', predicted_waypoints: WPS, generated_text: 'SCENE: incident_zone', ...over,
  };
}

function scDb(rows: Array<Record<string, unknown>>, sql = SC_TABLE_SQL): string {
  const file = path.join(tmpDir('tce-sc-'), 'self_consistency.db');
  const db = new Database(file);
  db.exec(sql);
  for (const r of rows) {
    const keys = Object.keys(r);
    db.prepare(`INSERT INTO predictions (${keys.join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(...keys.map((k) => r[k] as string | number | null));
  }
  db.close();
  return file;
}


function pngFile(dir: string, name: string): string {
  const p = new PNG({ width: 4, height: 3 });
  p.data.fill(200);
  fs.writeFileSync(path.join(dir, name), PNG.sync.write(p));
  return name;
}

test('self_consistency.db in the default layout yields samples and greedy predictions', () => {
  const file = scDb([row(0), row(1, { scene_type_gt: null, long_action_gt: 'null', predicted_scene: null, predicted_waypoints: null, generated_text: 'SCENE: road_work' })]);
  const { samples, greedy } = readSelfConsistencyDb(file);
  assert.equal(samples.length, 2);
  assert.deepEqual(samples[0], { sampleId: 0, chumUri: 'chum://x/0', sceneGt: 'flooded', longActionGt: 'slowdown', latActionGt: 'null', fineClass: 'flooded', oddLabel: 'rural', location: 'austin', waypointsGt: [[1, 0], [1.5, 0.25]], image: null, imageMime: null });
  assert.equal(samples[1]!.sceneGt, null);
  assert.deepEqual(greedy.get(0), { sampleId: 0, scene: 'incident_zone', longAction: 'stop', latAction: 'null', waypoints: [[1, 0], [1.5, 0.25]], generatedText: 'SCENE: incident_zone' });
  assert.equal(greedy.get(1)!.scene, null);
  assert.equal(greedy.get(1)!.waypoints, null);
});

test('a missing table or column lists the tables and columns found; overrides map their names to ours', () => {
  const file = scDb([row(0)]);
  throwsTce(() => readSelfConsistencyDb(file, { table: 'greedy_runs' }), 'SC_MISMATCH', /no table 'greedy_runs'\. Found: predictions\(experiment_id, sample_id, chum_uri/);
  throwsTce(() => readSelfConsistencyDb(file, { columns: { predicted_scene: 'pred_scene' } }), 'SC_MISMATCH', /lacks column\(s\) 'pred_scene' \(for predicted_scene\)\. Found: predictions\(.*generated_text\)/);
  throwsTce(() => readSelfConsistencyDb(file, { columns: { scene: 'x' } }), 'SC_MAPPING', /'scene' is not one of our column names/);
  // Their layout: other names, no experiment column.
  const theirs = scDb([], `CREATE TABLE runs (idx INTEGER, gt TEXT, long_gt TEXT, lat_gt TEXT, wp_gt TEXT, pred TEXT, pred_long TEXT, pred_lat TEXT, pred_wp TEXT, output TEXT)`);
  const db = new Database(theirs);
  db.prepare(`INSERT INTO runs VALUES (5, 'flagger', 'stop', 'null', ?, 'flagger', 'stop', 'null', NULL, 'SCENE: flagger')`).run(WPS);
  db.close();
  throwsTce(() => readSelfConsistencyDb(theirs, { table: 'runs' }), 'SC_MISMATCH', /lacks column\(s\) 'sample_id', 'scene_type_gt'.*Found: runs\(idx, gt, long_gt/);
  const got = readSelfConsistencyDb(theirs, {
    table: 'runs',
    columns: { sample_id: 'idx', scene_type_gt: 'gt', long_action_gt: 'long_gt', lat_action_gt: 'lat_gt', waypoints_gt: 'wp_gt', predicted_scene: 'pred', predicted_long_action: 'pred_long', predicted_lat_action: 'pred_lat', predicted_waypoints: 'pred_wp', generated_text: 'output' },
  });
  assert.equal(got.samples[0]!.sampleId, 5);
  assert.equal(got.samples[0]!.chumUri, null);
  assert.equal(got.greedy.get(5)!.scene, 'flagger');
});

test('several experiments in one table need experimentId; an unknown one lists those found', () => {
  const file = scDb([row(0), row(0, { experiment_id: 'sc_t07_0' }), row(1)]);
  throwsTce(() => readSelfConsistencyDb(file), 'SC_MISMATCH', /holds several experiments \(greedy, sc_t07_0\)/);
  assert.equal(readSelfConsistencyDb(file, { experimentId: 'greedy' }).samples.length, 2);
  throwsTce(() => readSelfConsistencyDb(file, { experimentId: 'nope' }), 'SC_MISMATCH', /no experiment 'nope' \(found: greedy, sc_t07_0\)/);
});

test('a bad row names the file, table, row, sample_id and column', () => {
  // Labels are checked per distinct value first (test 38 has the value maps).
  throwsTce(() => readSelfConsistencyDb(scDb([row(0), row(1, { scene_type_gt: 'incident' })])), 'SC_UNMAPPED', /table 'predictions', column 'scene_type_gt': 1 value\(s\) neither in dataset\.selfConsistency\.values\.scene nor ours \(nominal, .*\): 'incident' \(1 row, sample_id 1\)$/);
  throwsTce(() => readSelfConsistencyDb(scDb([row(0, { predicted_waypoints: '[[1, "a"]]' })])), 'DATA_ROW', /row 0 \(sample_id 0\), column 'predicted_waypoints': expected \[\[x, y\], \.\.\.\]/);
  throwsTce(() => readSelfConsistencyDb(scDb([row(0, { long_action_gt: 'brake' }), row(1, { long_action_gt: 'brake' })])), 'SC_UNMAPPED', /column 'long_action_gt': 1 value\(s\) .*: 'brake' \(2 rows, first sample_id 0\)/);
  throwsTce(() => readSelfConsistencyDb(scDb([row(0, { generated_text: null })], SC_TABLE_SQL.replace('generated_text TEXT NOT NULL', 'generated_text TEXT'))), 'DATA_ROW', /column 'generated_text': expected text, found NULL/);
  const noKey = SC_TABLE_SQL.replace('PRIMARY KEY (experiment_id, sample_id)', 'note TEXT');
  throwsTce(() => readSelfConsistencyDb(scDb([row(4), row(4)], noKey)), 'DATA_ROW', /row 1, field 'sample_id': 4 repeats row 0/);
  throwsTce(() => readSelfConsistencyDb(path.join(tmpDir(), 'missing.db')), 'SC_NOT_FOUND');
});

test('JSONL manifest: image as a relative path or a data URL; bad lines name line and field', () => {
  const dir = tmpDir('tce-jsonl-');
  const img = pngFile(dir, 'a.png');
  const dataUrl = `data:image/png;base64,${fs.readFileSync(path.join(dir, img)).toString('base64')}`;
  const line = (id: number, over: Record<string, unknown> = {}) => JSON.stringify({ sample_id: id, scene_type_gt: 'nominal', long_action_gt: 'null', lat_action_gt: 'null', waypoints_gt: [[1, 0]], image: img, ...over });
  const file = path.join(dir, 'm.jsonl');
  fs.writeFileSync(file, `${line(0)}\n\n${line(1, { image: dataUrl, chum_uri: 'c1' })}\n`);
  const samples = readJsonlSamples(file, MAPPING);
  assert.equal(samples.length, 2);
  assert.deepEqual(Buffer.from(samples[0]!.image!), Buffer.from(samples[1]!.image!));
  assert.equal(samples[1]!.imageMime, 'image/png');
  assert.equal(samples[1]!.location, null);
  fs.writeFileSync(file, `${line(0)}\n${line(1, { waypoints_gt: [[1]] })}\n`);
  throwsTce(() => readJsonlSamples(file, MAPPING), 'DATA_ROW', /m\.jsonl: line 2, field 'waypoints_gt' \(key 'waypoints_gt'\): expected \[\[x, y\]/);
  fs.writeFileSync(file, `${line(0)}\n{"sample_id": 1,\n`);
  throwsTce(() => readJsonlSamples(file, MAPPING), 'DATA_ROW', /line 2: not valid JSON/);
  fs.writeFileSync(file, `${line(0, { image: 'missing.png' })}\n`);
  throwsTce(() => readJsonlSamples(file, MAPPING), 'DATA_ROW', /line 1, field 'image' .*cannot read image file .*missing\.png \(ENOENT\)/);
  fs.writeFileSync(file, `${line(3)}\n${line(3)}\n`);
  throwsTce(() => readJsonlSamples(file, MAPPING), 'DATA_ROW', /sample 1, field 'sample_id': 3 repeats sample 0/);
});

test('MDS through a mapping: unknown column lists the columns; a bad value names sample and column; "" leaves a field out', () => {
  const dir = path.join(tmpDir('tce-mds-map-'), 'ds');
  const png = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), {}));
  const w = new MdsWriter(dir, { columns: { uid: 'int', scene: 'str', long: 'str', lat: 'str', img: 'png', wp: 'ndarray:float32:2,2' } });
  for (let i = 0; i < 3; i++) w.write({ uid: 100 + i, scene: i === 2 ? 'flooded ' : 'flooded', long: 'stop', lat: 'null', img: png, wp: { kind: 'ndarray', dtype: 'float32', shape: [2, 2], data: [1, 0, 0.5, 0] } });
  w.finish();
  const mapping = { ...MAPPING, sample_id: 'uid', scene_type_gt: 'scene', long_action_gt: 'long', lat_action_gt: 'lat', image: 'img', waypoints_gt: 'wp', chum_uri: '', fine_class: '', odd_label: '', location: '' };
  throwsTce(() => readMdsSamples(dir, { ...mapping, location: 'city' }), 'MDS_MAPPING', /dataset\.mapping\.location names column 'city'.*columns: img \(png\), lat \(str\), long \(str\), scene \(str\), uid \(int\), wp \(ndarray:float32:2,2\)/);
  throwsTce(() => readMdsSamples(dir, mapping), 'DATA_ROW', /ds: sample 2, field 'scene_type_gt' \(column 'scene'\): 'flooded ' is not a scene/);
});

test('loadExperimentData: mds and jsonl sources, greedy coverage checked, missing path named', async () => {
  const dir = tmpDir('tce-load-');
  const img = pngFile(dir, 'a.png');
  const manifest = path.join(dir, 'm.jsonl');
  fs.writeFileSync(manifest, [0, 1].map((id) => JSON.stringify({ sample_id: id, scene_type_gt: 'flooded', long_action_gt: 'slowdown', lat_action_gt: 'null', image: img })).join('\n'));
  const db = scDb([row(0), row(1), row(2)]);
  const data = await loadExperimentData(ConfigSchema.parse({ dataset: { source: 'jsonl', path: manifest, selfConsistencyDb: db } }));
  assert.equal(data.synthetic, false);
  assert.equal(data.samples.length, 2);
  assert.equal(data.greedy.get(1)!.scene, 'incident_zone');
  const partial = scDb([row(0)]);
  await assert.rejects(loadExperimentData(ConfigSchema.parse({ dataset: { source: 'jsonl', path: manifest, selfConsistencyDb: partial } })), /no greedy prediction for 1 of 2 samples \(sample_id 1\)/);
  const noGreedy = await loadExperimentData(ConfigSchema.parse({ dataset: { source: 'jsonl', path: manifest } }));
  assert.equal(noGreedy.greedy.size, 0);
  await assert.rejects(loadExperimentData(ConfigSchema.parse({ dataset: { source: 'mds' } })), /dataset\.source is 'mds' but dataset\.path is not set/);
});

test('image columns: jpeg and pil become Sample images; a JPEG over the pixel budget is sent as a smaller JPEG', () => {
  const dir = path.join(tmpDir('tce-img-'), 'ds');
  const jpg = jpeg.encode({ data: Buffer.alloc(40 * 30 * 4, 90), width: 40, height: 30 }, 90).data;
  const w = new MdsWriter(dir, { columns: { j: 'jpeg', p: 'pil', scene: 'str' } });
  w.write({ j: jpg, p: { kind: 'pil', width: 2, height: 1, mode: 'L', pixels: new Uint8Array([0, 255]) }, scene: 'nominal' });
  w.finish();
  const base = { ...MAPPING, scene_type_gt: 'scene', sample_id: '', chum_uri: '', long_action_gt: '', lat_action_gt: '', fine_class: '', odd_label: '', location: '', waypoints_gt: '' };
  const [js] = readMdsSamples(dir, { ...base, image: 'j' });
  assert.equal(js!.imageMime, 'image/jpeg');
  assert.equal(js!.sampleId, 0);
  const url = imageDataUrl(js!, { pixelBudget: 300 });
  assert.ok(url.startsWith('data:image/jpeg;base64,'));
  const small = jpeg.decode(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
  assert.deepEqual([small.width, small.height], [20, 15]);
  assert.ok(imageDataUrl(js!).startsWith('data:image/jpeg;base64,'));
  const [ps] = readMdsSamples(dir, { ...base, image: 'p' });
  const pil = PNG.sync.read(Buffer.from(ps!.image!));
  assert.deepEqual([pil.width, pil.height, pil.data[0], pil.data[4]], [2, 1, 0, 255]);
  throwsTce(() => readMdsSamples(dir, { ...base, image: 'scene' }), 'DATA_ROW', /sample 0, field 'image' \(column 'scene'\): expected image bytes/);
});
