// The self_consistency.db mapping (issue 13): a database with other table and
// column names and other label spellings imports through
// dataset.selfConsistency, sample for sample as the original; without the
// mapping the error shows what the file has and the closest names; `tce
// inspect-db` prints what the importer reads, read-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture } from './helpers/fixture';
import { throwsTce } from './3-data-helpers';
import { readSelfConsistency } from '../src/data/load';
import { FIXTURE_SC_DB } from '../src/data/fixture/synth';
import { ConfigSchema } from '../src/config/schema';
import { closestNames } from '../src/util/closest';
import { TceError } from '../src/util/errors';

// Their spellings of our enums; predicted scenes are integer codes.
const SCENE_NAMES = { nominal: 'Nominal', flooded: 'Flooded', incident_zone: 'Incident Zone', mounted_police: 'Mounted Police', flagger: 'Flagger' };
const SCENE_CODES = { nominal: 0, flooded: 1, incident_zone: 2, mounted_police: 3, flagger: 4 };
const LONG = { stop: 'STOP', slowdown: 'SLOW_DOWN', proceed: 'GO', null: 'none' };
const LAT = { lc_left: 'left', lc_right: 'right', null: 'keep' };

const invert = (m: Record<string, string | number>): Record<string, string> => Object.fromEntries(Object.entries(m).map(([ours, theirs]) => [String(theirs), ours]));
const caseOf = (col: string, m: Record<string, string | number>): string =>
  `CASE ${col} ${Object.entries(m).map(([ours, theirs]) => `WHEN '${ours}' THEN ${typeof theirs === 'number' ? theirs : `'${theirs}'`}`).join(' ')} ELSE ${col} END`;

const THEIR_COLUMNS = {
  experiment_id: 'run_name', sample_id: 'SampleID', chum_uri: 'clip', scene_type_gt: 'gt_scene', long_action_gt: 'gt_long', lat_action_gt: 'gt_lat', odd_label: 'odd',
  waypoints_gt: 'gt_waypoints', predicted_scene: 'pred_scene', predicted_long_action: 'pred_long', predicted_lat_action: 'pred_lat', predicted_waypoints: 'pred_waypoints', generated_text: 'raw_output',
};
const MAPPING = {
  table: 'greedy_predictions', experimentId: 'greedy', columns: THEIR_COLUMNS,
  values: { scene: { ...invert(SCENE_NAMES), ...invert(SCENE_CODES) }, long_action: invert(LONG), lat_action: invert(LAT) },
};

/** The fixture's self_consistency.db rewritten in another layout: renamed
 * table and columns (location as LOCATION: SQLite names ignore case), their
 * spellings, a second experiment, and a table that is not the baseline. */
function theirDb(original: string, dir: string): string {
  const file = path.join(dir, 'self_consistency.db');
  const db = new Database(file);
  db.prepare('ATTACH DATABASE ? AS o').run(original);
  db.exec(`CREATE TABLE greedy_predictions (run_name TEXT, SampleID INTEGER, clip TEXT, gt_scene TEXT, gt_long TEXT, gt_lat TEXT, fine_class TEXT, odd TEXT, LOCATION TEXT,
      gt_waypoints TEXT, pred_scene INTEGER, pred_long TEXT, pred_lat TEXT, pred_waypoints TEXT, raw_output TEXT);
    INSERT INTO greedy_predictions SELECT experiment_id, sample_id, chum_uri, ${caseOf('scene_type_gt', SCENE_NAMES)}, ${caseOf('long_action_gt', LONG)}, ${caseOf('lat_action_gt', LAT)},
      fine_class, odd_label, location, waypoints_gt, ${caseOf('predicted_scene', SCENE_CODES)}, ${caseOf('predicted_long_action', LONG)}, ${caseOf('predicted_lat_action', LAT)},
      predicted_waypoints, generated_text FROM o.predictions ORDER BY sample_id DESC;
    INSERT INTO greedy_predictions SELECT 'sc_t07_0', SampleID, clip, gt_scene, gt_long, gt_lat, fine_class, odd, LOCATION, gt_waypoints, 4, pred_long, pred_lat, pred_waypoints, raw_output
      FROM greedy_predictions WHERE SampleID < 100;
    CREATE TABLE meta (key TEXT, value TEXT);
    INSERT INTO meta VALUES ('created_by', 'self_consistency.py');`);
  db.exec('DETACH DATABASE o');
  db.close();
  return file;
}

const config = (sc: Record<string, unknown>) => ConfigSchema.parse({ dataset: { selfConsistency: sc } });
const sha = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

// Made once per file and copied for each test (tests 3 and 4 alter their
// copy): rewriting the 8,613 rows, and the reading of the original every
// test compares with, were most of this file's cost. Tests only read it.
let made: Promise<{ original: string; pristine: string }> | null = null;
let originalRead: ReturnType<typeof readSelfConsistency> | null = null;
async function setup(): Promise<{ original: string; theirs: string; dir: string }> {
  made ??= (async () => {
    const original = path.join(await sharedFixture(), FIXTURE_SC_DB);
    return { original, pristine: theirDb(original, tmpDir('tce-scmap-')) };
  })();
  const { original, pristine } = await made;
  const dir = tmpDir('tce-scmap-');
  const theirs = path.join(dir, path.basename(pristine));
  fs.copyFileSync(pristine, theirs);
  return { original, theirs, dir };
}
/** The original read with the default mapping, once. */
function originalSc(original: string): ReturnType<typeof readSelfConsistency> {
  originalRead ??= readSelfConsistency(original, config({}));
  return originalRead;
}

function writeConfig(dir: string, sc: Record<string, unknown>): string {
  const file = path.join(dir, `config-${crypto.randomUUID()}.json`);
  fs.writeFileSync(file, JSON.stringify({ dataset: { selfConsistency: sc } }));
  return file;
}

test('renamed columns and other spellings import with a mapping, sample for sample as the original', async () => {
  const { original, theirs } = await setup();
  const want = originalSc(original);
  const got = readSelfConsistency(theirs, config(MAPPING));
  assert.equal(got.samples.length, 8613);
  assert.deepEqual(got.samples, want.samples);
  assert.deepEqual([...got.greedy.entries()], [...want.greedy.entries()]);
  // The mapping is what makes it so: the other experiment is another baseline.
  const other = readSelfConsistency(theirs, config({ ...MAPPING, experimentId: 'sc_t07_0' }));
  assert.deepEqual([other.samples.length, new Set([...other.greedy.values()].map((g) => g.scene))], [100, new Set(['flagger'])]);
});

test('without a mapping the error lists the tables, the columns found and the closest names, and the field to set', async () => {
  const { theirs } = await setup();
  throwsTce(() => readSelfConsistency(theirs, config({})), 'SC_MISMATCH',
    /no table 'predictions'\. Found: greedy_predictions\(run_name, SampleID, clip, gt_scene, .*raw_output\); meta\(key, value\)/,
    /table: closest: 'greedy_predictions' -> set dataset\.selfConsistency\.table/);
  const r = await tce(['inspect-db', theirs, '--config', writeConfig(path.dirname(theirs), { table: 'greedy_predictions' })]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /lacks column\(s\) 'sample_id', 'scene_type_gt', 'long_action_gt', .*'generated_text'\. Found: greedy_predictions\(run_name, SampleID, clip, gt_scene/);
  assert.match(r.stderr, /sample_id: looked for 'sample_id'; closest: 'SampleID' -> set dataset\.selfConsistency\.columns\.sample_id\n/);
  assert.match(r.stderr, /scene_type_gt: looked for 'scene_type_gt'; closest: 'gt_scene' -> set dataset\.selfConsistency\.columns\.scene_type_gt\n/);
  assert.match(r.stderr, /predicted_scene: looked for 'predicted_scene'; closest: 'pred_scene' -> set dataset\.selfConsistency\.columns\.predicted_scene\n/);
  assert.match(r.stderr, /long_action_gt: looked for 'long_action_gt'; closest: 'gt_long' -> set dataset\.selfConsistency\.columns\.long_action_gt \(or null: this database has none\)/);
  assert.match(r.stderr, /generated_text: looked for 'generated_text'; no close match -> set dataset\.selfConsistency\.columns\.generated_text \(or null/);
  assert.match(r.stdout, /sample_id +MISSING \(looked for 'sample_id'\) +\[required\]\n/);
  assert.match(r.stdout, /location +-> LOCATION\n/);
  assert.match(r.stdout, /import: would FAIL/);
  // Two runs in the table and no experiment column mapped: each sample would repeat.
  assert.throws(() => readSelfConsistency(theirs, config({ ...MAPPING, experimentId: undefined, columns: { ...THEIR_COLUMNS, experiment_id: undefined } })), (e: unknown) => {
    assert.ok(e instanceof TceError && e.code === 'DATA_ROW', String(e));
    assert.match(e.message, /field 'sample_id': \d+ repeats row \d+/);
    assert.match(e.hint ?? '', /map experiment_id in dataset\.selfConsistency\.columns and set dataset\.selfConsistency\.experimentId/);
    return true;
  });
});

test('null columns are absent; required ones cannot be null; unknown names are refused', async () => {
  const { original, theirs } = await setup();
  const db = new Database(theirs);
  db.exec('ALTER TABLE greedy_predictions DROP COLUMN raw_output; ALTER TABLE greedy_predictions DROP COLUMN fine_class; ALTER TABLE greedy_predictions DROP COLUMN pred_waypoints');
  db.close();
  const cols = { ...THEIR_COLUMNS, generated_text: null, fine_class: null, predicted_waypoints: null };
  const got = readSelfConsistency(theirs, config({ ...MAPPING, columns: cols }));
  const want = originalSc(original);
  assert.deepEqual(got.samples, want.samples.map((s) => ({ ...s, fineClass: null })));
  assert.deepEqual([...got.greedy.values()], [...want.greedy.values()].map((g) => ({ ...g, generatedText: null, waypoints: null })));
  // An expected column neither there nor declared null is still an error.
  throwsTce(() => readSelfConsistency(theirs, config({ ...MAPPING, columns: { ...cols, generated_text: undefined } })), 'SC_MISMATCH', /generated_text: looked for 'generated_text'; no close match -> set dataset\.selfConsistency\.columns\.generated_text \(or null: this database has none\)/);
  for (const required of ['sample_id', 'scene_type_gt', 'predicted_scene']) {
    const r = ConfigSchema.safeParse({ dataset: { selfConsistency: { columns: { [required]: null } } } });
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, new RegExp(`^${required} cannot be null: `));
  }
  assert.equal(ConfigSchema.safeParse({ dataset: { selfConsistency: { columns: { scene: 'x' } } } }).success, false);
  assert.equal(ConfigSchema.safeParse({ dataset: { selfConsistency: { values: { scene: { 'Road Work': 'road_work' } } } } }).success, false);
});

/** Rows and the smallest sample_id of the greedy run with this GT scene. */
function sceneRows(samples: ReadonlyArray<{ sampleId: number; sceneGt: string | null }>, scene: string): { rows: number; first: number } {
  const ids = samples.filter((s) => s.sceneGt === scene).map((s) => s.sampleId);
  return { rows: ids.length, first: Math.min(...ids) };
}

test('unmapped values: one error names file, table, column, each value with its rows and first sample_id, escaped', async () => {
  const { original, theirs } = await setup();
  const db = new Database(theirs);
  db.prepare(`UPDATE greedy_predictions SET gt_scene = ? WHERE SampleID = 7 AND run_name = 'greedy'`).run('Road\u001b[2JWork\u009b');
  db.close();
  const incident = sceneRows(originalSc(original).samples.filter((s) => s.sampleId !== 7), 'incident_zone');
  const scene: Record<string, string> = { ...MAPPING.values.scene };
  delete scene['Incident Zone'];
  const cfg = { ...MAPPING, values: { ...MAPPING.values, scene } };
  let message = '';
  throwsTce(() => {
    try {
      readSelfConsistency(theirs, config(cfg));
    } catch (e) {
      message = (e as Error).message;
      throw e;
    }
  }, 'SC_UNMAPPED', new RegExp(`^${theirs.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: table 'greedy_predictions', column 'gt_scene' \\(for scene_type_gt\\): 2 value\\(s\\) neither in dataset\\.selfConsistency\\.values\\.scene nor ours \\(nominal, flooded, incident_zone, mounted_police, flagger\\): ` +
    `'Incident Zone' \\(${incident.rows} rows, first sample_id ${incident.first}\\), 'Road\\\\u001b\\[2JWork\\\\u009b' \\(1 row, sample_id 7\\)$`));
  assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(message), 'control characters from the database are escaped');
  // The predicted scenes (integer codes) still map: only gt_scene is named.
  assert.doesNotMatch(message, /pred_scene/);
  const r = await tce(['inspect-db', theirs, '--config', writeConfig(path.dirname(theirs), cfg)]);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.startsWith(`tce: error: ${message}\n`), r.stderr);
  assert.match(r.stderr, /\nhint: map each value in dataset\.selfConsistency\.values\.<kind>, e\.g\. "values": \{"scene": \{"Incident Zone": "incident_zone"\}\} \(null = missing\)\n$/);
  assert.match(r.stdout, new RegExp(`'Incident Zone' +${incident.rows} +-> UNMAPPED\\n`));
  assert.match(r.stdout, /'Road\\u001b\[2JWork\\u009b' +1 +-> UNMAPPED\n/);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(r.stdout), 'inspect-db prints no control character from the database');
});

test('tce inspect-db prints tables, the mapping, label values with their enum, experiments and the verdict, read-only', async () => {
  const { original, theirs } = await setup();
  const want = originalSc(original);
  const before = sha(theirs);
  const r = await tce(['inspect-db', theirs, '--config', writeConfig(path.dirname(theirs), MAPPING)]);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^tables \(2\):\n +greedy_predictions +8713 rows +run_name, SampleID, clip, gt_scene, .*raw_output\n +meta +1 row +key, value\n/m);
  assert.match(out, /^chosen table: greedy_predictions$/m);
  assert.match(out, /^ +sample_id +-> SampleID +\[required\]$/m);
  assert.match(out, /^ +location +-> LOCATION$/m);
  assert.match(out, /^ +fine_class +-> fine_class$/m);
  assert.match(out, /^experiments: greedy \(8613 rows\), sc_t07_0 \(100 rows\); read: greedy$/m);
  const flooded = sceneRows(want.samples, 'flooded');
  const unlabelled = want.samples.filter((s) => s.sceneGt === null).length;
  assert.match(out, /^scene_type_gt <- 'gt_scene' \(scene, 6 distinct values\):$/m);
  assert.match(out, new RegExp(`^ +'Flooded' +${flooded.rows} +-> flooded$`, 'm'));
  assert.match(out, new RegExp(`^ +NULL +${unlabelled} +-> NULL \\(missing\\)$`, 'm'));
  const predictedIncident = [...want.greedy.values()].filter((g) => g.scene === 'incident_zone').length;
  assert.match(out, new RegExp(`^predicted_scene <- 'pred_scene' \\(scene, 6 distinct values\\):\\n +${SCENE_CODES.incident_zone} +${predictedIncident} +-> incident_zone$`, 'm'));
  const noAction = want.samples.filter((s) => s.longActionGt === 'null').length;
  assert.match(out, new RegExp(`^ +'none' +${noAction} +-> null \\(no action\\)$`, 'm'));
  assert.match(out, /^import: ok, 8613 samples with their greedy predictions$/m);
  assert.equal(sha(theirs), before, 'inspect-db never writes');
  assert.ok(!fs.existsSync(`${theirs}-wal`) && !fs.existsSync(`${theirs}-journal`), 'no WAL or journal left');
});

test('closest names: case, separators, abbreviations and word order', () => {
  assert.deepEqual(closestNames('predicted_scene', ['raw_output', 'gt_scene', 'scene_pred']), ['scene_pred']);
  assert.deepEqual(closestNames('scene_type_gt', ['odd', 'scene_label']), ['scene_label'], 'words in common, when nothing is closer');
  assert.deepEqual(closestNames('location', ['locaton', 'LOCATIONS']), ['LOCATIONS', 'locaton'], 'a containing name before a typo');
  assert.deepEqual(closestNames('sample_id', ['idx', 'SampleID', 'sample']), ['SampleID', 'sample']);
  assert.deepEqual(closestNames('predictions', ['meta', 'Predictions_v2']), ['Predictions_v2']);
  assert.deepEqual(closestNames('generated_text', ['run_name', 'SampleID', 'gt_scene']), []);
});
