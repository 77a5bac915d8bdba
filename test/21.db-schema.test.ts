import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir, hasPython3, python3 } from './helpers/cli';
import { migrate, openDb, tableColumns } from '../src/store/db';
import { MIGRATIONS, REKEYED, latestSchemaVersion } from '../src/store/schema';
import { allRows, iterateRows } from '../src/store/row-objects';
import { DECLARED_TABLES, type ColumnDecl } from '../src/store/tables';
import { runTableLayouts } from '../src/store/arrow-schema';
import { PLAN_VALIDATION_SNIPPETS } from './helpers/plan-validation';

const PLAN_COLUMNS: Record<string, string[]> = {
  experiments: ['experiment_id', 'created_at', 'description', 'condition_name', 'pipeline', 'predictor_model', 'verifier_model', 'tools_enabled', 'temperature_predict', 'temperature_verify', 'seed', 'total_samples', 'total_wall_time_s', 'predict_wall_time_s', 'verify_wall_time_s', 'throughput_samples_per_s', 'status'],
  predictions: ['id', 'experiment_id', 'sample_id', 'chum_uri', 'original_scene', 'original_long_action', 'original_lat_action', 'original_generated_text', 'original_scene_correct', 'final_scene', 'final_long_action', 'final_lat_action', 'final_generated_text', 'final_scene_correct', 'was_revised', 'scene_was_revised', 'revision_reason', 'scene_type_gt', 'long_action_gt', 'lat_action_gt', 'odd_label', 'fine_class', 'location', 'original_flipped_correct', 'original_flipped_incorrect', 'predict_time_ms', 'verify_time_ms', 'total_time_ms', 'created_at'],
  tool_calls: ['id', 'experiment_id', 'sample_id', 'tool_call_order', 'tool_name', 'tool_arguments_json', 'tool_result_json', 'model_revised_after', 'revised_field', 'old_value', 'new_value', 'created_at'],
  condition_metrics: ['id', 'experiment_id', 'scene_accuracy', 'scene_macro_f1', 'n_revised', 'revision_rate', 'revision_accuracy', 'n_saves', 'n_breaks', 'net_improvement', 'tool_prior_call_count', 'tool_prior_revision_rate', 'tool_confusion_call_count', 'tool_confusion_revision_rate', 'tool_scene_action_call_count', 'tool_scene_action_revision_rate', 'tool_waypoint_call_count', 'tool_waypoint_revision_rate', 'mean_predict_time_ms', 'mean_verify_time_ms', 'mean_total_time_ms', 'p95_total_time_ms', 'created_at'],
};

test('create-db makes every column of the plan, in the plan\'s order, plus the indexes', async () => {
  const file = path.join(tmpDir(), 'x.db');
  const r = await tce(['create-db', '--db', file]);
  assert.equal(r.status, 0, r.stderr);
  const db = openDb(file);
  for (const [table, cols] of Object.entries(PLAN_COLUMNS)) {
    const actual = tableColumns(db, table).map((c) => c.name);
    assert.deepEqual(actual.slice(0, cols.length), cols, table);
  }
  assert.ok(tableColumns(db, 'condition_metrics').some((c) => c.name === 'condition_name'));
  assert.ok(tableColumns(db, 'condition_metrics').some((c) => c.name === 'verifier_size'));
  const idx = (db.prepare(`SELECT name FROM sqlite_master WHERE type='index' AND name LIKE 'idx_%'`).all() as Array<{ name: string }>).map((x) => x.name);
  for (const name of ['idx_predictions_exp', 'idx_predictions_revised', 'idx_predictions_flip', 'idx_tool_calls_exp', 'idx_tool_calls_name', 'idx_tool_calls_revised']) assert.ok(idx.includes(name), name);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion());
  db.close();
  // idempotent
  assert.equal((await tce(['create-db', '--db', file])).status, 0);
});

test('a database from a newer tce is refused; an older one is migrated', async () => {
  const dir = tmpDir();
  const newer = path.join(dir, 'newer.db');
  const raw = new Database(newer);
  raw.pragma(`user_version = ${latestSchemaVersion() + 1}`);
  raw.close();
  const r = await tce(['create-db', '--db', newer]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /newer tce/);

  const older = path.join(dir, 'older.db');
  const o = new Database(older);
  const { MIGRATIONS } = require('../src/store/schema') as typeof import('../src/store/schema');
  o.exec(MIGRATIONS[0]!.sql);
  o.pragma('user_version = 1');
  o.prepare(`INSERT INTO experiments (experiment_id, condition_name, pipeline) VALUES ('e1', 'baseline', 'A')`).run();
  o.close();
  const db = openDb(older);
  assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion());
  assert.equal((db.prepare('SELECT count(*) AS n FROM experiments').get() as { n: number }).n, 1);
  assert.ok(tableColumns(db, 'experiments').some((c) => c.name === 'backend'));
  db.close();
});

test('the plan\'s first two validation commands run verbatim (python3 + sqlite3)', { skip: !hasPython3() && 'python3 not available' }, async () => {
  const dir = tmpDir();
  const r = await tce(['create-db', '--db', path.join(dir, 'tool_calling_experiment', 'tool_calling.db')]);
  assert.equal(r.status, 0, r.stderr);
  for (const snippet of PLAN_VALIDATION_SNIPPETS) {
    const p = spawnSync(python3()!, ['-c', snippet], { cwd: dir, encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
  }
});

// The run tables are declared once (src/store/tables.ts); the database the
// migrations build (the plan's verbatim DDL included) must match them.
interface Info { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }

/** `key`: the columns of a table's PRIMARY KEY constraint, when it has one (pk is the position in it). */
function expected(name: string, c: ColumnDecl, key: string[] = []): Info {
  // SQLite reports DEFAULT (expr) without its parentheses.
  const dflt = /DEFAULT (?:\((.*)\)|('[^']*'|\S+))/.exec(c.extra ?? '')?.slice(1).find((x) => x !== undefined) ?? null;
  return { name, type: c.kind.toUpperCase(), notnull: c.notNull ? 1 : 0, dflt_value: dflt, pk: /PRIMARY KEY/.test(c.extra ?? '') ? 1 : key.indexOf(name) + 1 };
}

/** The table key migration 12 gave a run table (turns: its PRIMARY KEY). */
function rekeyedKey(table: string): string[] {
  const layout = REKEYED.find(([t]) => t.name === table)?.[1];
  return /PRIMARY KEY *\(([^)]*)\)/.exec(layout?.constraints.join(' ') ?? '')?.[1]!.split(',').map((x) => x.trim()) ?? [];
}

test('the migrated database has exactly the declared columns, in order, with their types, NOT NULL, defaults and keys', () => {
  const db = new Database(':memory:');
  try {
    migrate(db, ':memory:');
    for (const t of DECLARED_TABLES) {
      const got = db.prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid').all(t.name) as Info[];
      assert.deepEqual(got, Object.entries(t.columns).map(([n, c]) => expected(n, c, rekeyedKey(t.name))), `table ${t.name}`);
    }
  } finally {
    db.close();
  }
});

test('the plan\'s verbatim DDL (migration 1) matches the declarations of its tables', () => {
  const db = new Database(':memory:');
  try {
    db.exec(MIGRATIONS.find((m) => m.version === 1)!.sql);
    for (const t of DECLARED_TABLES.filter((x) => x.since === 1)) {
      const got = db.prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid').all(t.name) as Info[];
      assert.deepEqual(got, Object.entries(t.columns).filter(([, c]) => c.since === 1).map(([n, c]) => expected(n, c)), `table ${t.name}`);
    }
  } finally {
    db.close();
  }
});

test('every declared column and table comes with a migration', () => {
  const versions = new Set(MIGRATIONS.map((m) => m.version));
  for (const t of DECLARED_TABLES) {
    assert.ok(versions.has(t.since), `${t.name}: since ${t.since}`);
    for (const [n, c] of Object.entries(t.columns)) {
      assert.ok(versions.has(c.since), `${t.name}.${n}: since ${c.since} has no migration`);
      assert.ok(c.since >= t.since, `${t.name}.${n}: older than its table`);
    }
  }
});

test('the Arrow layout is the declared columns the driver writes', () => {
  const l = runTableLayouts();
  assert.deepEqual(l.turns.columns.slice(0, 4), [
    { name: 'experiment_id', kind: 'text', required: true },
    { name: 'sample_id', kind: 'integer', required: true },
    { name: 'turn_index', kind: 'integer', required: true },
    { name: 'stage', kind: 'text', required: true },
  ]);
  for (const t of Object.values(l)) assert.ok(!t.columns.some((c) => c.name === 'id' || c.name === 'created_at'));
  assert.equal(l.predictions.columns.length, 41);
});

test('migration 12 keeps every row of a populated database, its ids and counters, and one index per run table key', () => {
  const db = new Database(':memory:');
  try {
    for (const m of MIGRATIONS.filter((x) => x.version <= 11)) db.exec(m.sql);
    db.pragma('user_version = 11');
    db.exec(`INSERT INTO experiments (experiment_id, condition_name, pipeline) VALUES ('e1', 'baseline', 'A');
      INSERT INTO texts (id, text) VALUES (7, 'a long reply stored once in texts');
      INSERT INTO predictions (experiment_id, sample_id, final_scene, final_generated_text_text_id) VALUES ('e1', 1, 'nominal', 7), ('e1', 2, 'flooded', NULL), ('e1', 3, 'x', NULL);
      DELETE FROM predictions WHERE sample_id = 3;
      INSERT INTO tool_calls (experiment_id, sample_id, tool_call_order, tool_name) VALUES ('e1', 1, 0, 'check_scene_prior'), ('e1', 1, 1, 'check_confusion');
      INSERT INTO turns (experiment_id, sample_id, turn_index, stage, status, response_text_text_id) VALUES ('e1', 2, 1, 'verify', 'ok', 7), ('e1', 2, 0, 'predict', 'ok', NULL), ('e1', 1, 0, 'predict', 'ok', NULL);`);
    const rows = () => ['predictions_full', 'tool_calls_full'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY id`).all())
      .concat([db.prepare('SELECT * FROM turns_full ORDER BY experiment_id, sample_id, turn_index').all().map((r) => { const { id: _id, ...rest } = r as Record<string, unknown>; return rest; })]);
    const before = rows();
    migrate(db, ':memory:');
    assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion());
    assert.deepEqual(rows(), before);
    assert.equal((db.prepare('SELECT final_generated_text FROM predictions_full WHERE sample_id = 1').get() as { final_generated_text: string }).final_generated_text, 'a long reply stored once in texts');
    // The AUTOINCREMENT counter moved with the table: the deleted id 3 is not reused.
    db.prepare(`INSERT INTO predictions (experiment_id, sample_id) VALUES ('e1', 4)`).run();
    assert.equal((db.prepare('SELECT max(id) AS m FROM predictions').get() as { m: number }).m, 4);
    assert.deepEqual(db.prepare(`SELECT name FROM sqlite_sequence WHERE name LIKE '%v12' OR name = 'turns'`).all(), []);
    // The UNIQUE constraints hold, now in the plan's named indexes.
    assert.throws(() => db.prepare(`INSERT INTO predictions (experiment_id, sample_id) VALUES ('e1', 1)`).run(), /UNIQUE constraint failed: predictions.experiment_id, predictions.sample_id/);
    assert.throws(() => db.prepare(`INSERT INTO tool_calls (experiment_id, sample_id, tool_call_order, tool_name) VALUES ('e1', 1, 1, 'x')`).run(), /UNIQUE constraint failed/);
    assert.throws(() => db.prepare(`INSERT INTO turns (experiment_id, sample_id, turn_index, stage, status) VALUES ('e1', 2, 1, 'verify', 'ok')`).run(), /UNIQUE constraint failed/);
    const indexes = (t: string) => db.prepare(`SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY name`).all(t);
    assert.deepEqual(indexes('predictions'), [
      { name: 'idx_predictions_exp', unique: 1, origin: 'c' }, { name: 'idx_predictions_flip', unique: 0, origin: 'c' }, { name: 'idx_predictions_revised', unique: 0, origin: 'c' }]);
    assert.deepEqual(indexes('tool_calls'), [
      { name: 'idx_tool_calls_exp', unique: 1, origin: 'c' }, { name: 'idx_tool_calls_name', unique: 0, origin: 'c' }, { name: 'idx_tool_calls_revised', unique: 0, origin: 'c' }]);
    // turns is its key's index (WITHOUT ROWID): no other index.
    assert.deepEqual(indexes('turns'), [{ name: 'sqlite_autoindex_turns_1', unique: 1, origin: 'pk' }]);
    assert.match((db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'turns'`).get() as { sql: string }).sql, /WITHOUT ROWID$/);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
});

test('opening a database of migration 11 rebuilds its run tables once and gives the old pages back (VACUUM)', () => {
  const file = path.join(tmpDir(), 'v11.db');
  const raw = new Database(file);
  for (const m of MIGRATIONS.filter((x) => x.version <= 11)) raw.exec(m.sql);
  raw.pragma('user_version = 11');
  const filler = 'x'.repeat(200);
  raw.transaction(() => {
    raw.prepare(`INSERT INTO experiments (experiment_id, condition_name, pipeline) VALUES ('e1', 'baseline', 'A')`).run();
    const p = raw.prepare(`INSERT INTO predictions (experiment_id, sample_id, final_error) VALUES ('e1', ?, ?)`);
    const t = raw.prepare(`INSERT INTO turns (experiment_id, sample_id, turn_index, stage, status, error) VALUES ('e1', ?, 0, 'predict', 'ok', ?)`);
    for (let i = 0; i < 3000; i++) { p.run(i, filler); t.run(i, filler); }
  })();
  raw.close();
  const db = openDb(file);
  try {
    assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion());
    assert.equal(db.pragma('freelist_count', { simple: true }), 0);
    assert.deepEqual(db.prepare(`SELECT (SELECT count(*) FROM predictions) AS p, (SELECT count(*) FROM turns) AS t`).get(), { p: 3000, t: 3000 });
  } finally {
    db.close();
  }
});

test('allRows and iterateRows give the objects better-sqlite3 gives: the same keys, order and values', () => {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE t (a INTEGER, b REAL, "odd ""name"": x" TEXT, d BLOB);
    INSERT INTO t VALUES (1, 1.5, 'one', x'00ff'), (NULL, NULL, NULL, NULL), (3, -0.25, 'three', x'');`);
  const sql = `SELECT a, b, "odd ""name"": x", d, a AS b2, 'k' AS a FROM t WHERE a IS NOT ? OR a IS NULL ORDER BY rowid`;
  const want = db.prepare(sql).all(3) as object[];
  assert.equal(want.length, 2);
  for (const got of [allRows<object>(db.prepare(sql), 3), [...iterateRows<object>(db.prepare(sql), 3)]]) {
    assert.deepEqual(got, want);
    // A repeated name keeps its first place and takes the last value, as in better-sqlite3's objects.
    assert.deepEqual(got.map((o) => Object.keys(o)), want.map((o) => Object.keys(o)));
    assert.deepEqual(got.map((o) => (o as { a: unknown }).a), ['k', 'k']);
  }
  assert.deepEqual(allRows<object>(db.prepare('SELECT a FROM t WHERE a = 99')), []);
  db.close();
});
