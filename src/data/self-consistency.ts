// The self_consistency.db importer: ground truth and the greedy baseline,
// one row per sample. The default layout is what `tce synth` writes
// (docs/data.md); a real database with other names is read through the
// config's table/column overrides. On a mismatch the error lists the tables
// and columns that are there, so the override can be written at once.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { GreedyPrediction, Sample } from '../domain/sample';
import { TceError } from '../util/errors';
import { FieldError, checkUniqueIds, sampleFromFields, toLatAction, toLongAction, toScene, toWaypoints, type SampleField } from './sample-fields';

export const SC_DEFAULT_TABLE = 'predictions';

/** Our column name -> whether a database must have it. The defaults are also
 * the column names synth writes. */
export const SC_COLUMNS = {
  experiment_id: false,
  sample_id: true,
  chum_uri: false,
  scene_type_gt: true,
  long_action_gt: true,
  lat_action_gt: true,
  fine_class: false,
  odd_label: false,
  location: false,
  waypoints_gt: true,
  predicted_scene: true,
  predicted_long_action: true,
  predicted_lat_action: true,
  predicted_waypoints: true,
  generated_text: true,
} as const;
export type ScColumn = keyof typeof SC_COLUMNS;

/** CREATE TABLE of the default layout (what synth writes). */
export const SC_TABLE_SQL = `CREATE TABLE ${SC_DEFAULT_TABLE} (
  experiment_id TEXT NOT NULL,           -- one run of the predictor; 'greedy' = temperature 0
  sample_id INTEGER NOT NULL,
  chum_uri TEXT,
  scene_type_gt TEXT,                    -- NULL = unlabelled
  long_action_gt TEXT,                   -- 'stop' | 'slowdown' | 'proceed' | 'null'
  lat_action_gt TEXT,                    -- 'lc_left' | 'lc_right' | 'null'
  fine_class TEXT,
  odd_label TEXT,
  location TEXT,
  waypoints_gt TEXT,                     -- JSON [[dx, dy], ...], metres per 0.5 s step
  predicted_scene TEXT,                  -- parsed; NULL = unparseable
  predicted_long_action TEXT,
  predicted_lat_action TEXT,
  predicted_waypoints TEXT,              -- JSON, NULL when not parsed
  generated_text TEXT NOT NULL,          -- the predictor's raw output
  PRIMARY KEY (experiment_id, sample_id)
)`;

export interface ReadScOptions {
  table?: string;
  experimentId?: string;
  /** Overrides, our column name -> theirs. */
  columns?: Record<string, string>;
  /** Only these sample_ids are parsed (a --limit run); other rows are skipped unchecked. */
  only?: ReadonlySet<number>;
}

function listSchema(db: Database.Database): string {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  if (tables.length === 0) return 'no tables';
  return tables.map((t) => `${t}(${(db.prepare('SELECT name FROM pragma_table_info(?)').all(t) as Array<{ name: string }>).map((c) => c.name).join(', ')})`).join('; ');
}

/** A row's sample_id for the `only` filter; an invalid one (NaN) is never
 * picked, so it is never reported either. */
const idOf = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : NaN);

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export function readSelfConsistencyDb(file: string, opts: ReadScOptions = {}): { samples: Sample[]; greedy: Map<number, GreedyPrediction> } {
  if (!fs.existsSync(file)) throw new TceError('SC_NOT_FOUND', `${file}: no such self_consistency database`, 'set dataset.selfConsistencyDb in the config, or run `tce synth`');
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('schema_version');
  } catch (e) {
    throw new TceError('SC_INVALID', `${file}: not a readable SQLite database (${(e as Error).message})`);
  }
  try {
    return readOpen(db, file, opts);
  } finally {
    db.close();
  }
}

function readOpen(db: Database.Database, file: string, opts: ReadScOptions): { samples: Sample[]; greedy: Map<number, GreedyPrediction> } {
  const table = opts.table ?? SC_DEFAULT_TABLE;
  const overrides = opts.columns ?? {};
  for (const k of Object.keys(overrides)) {
    if (!(k in SC_COLUMNS)) throw new TceError('SC_MAPPING', `dataset.selfConsistency.columns: '${k}' is not one of our column names (${Object.keys(SC_COLUMNS).join(', ')})`);
  }
  const have = (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as Array<{ name: string }>).map((r) => r.name);
  if (have.length === 0) throw new TceError('SC_MISMATCH', `${file}: no table '${table}'. Found: ${listSchema(db)}`, 'set dataset.selfConsistency.table (and .columns) in the config');
  const col: Partial<Record<ScColumn, string>> = {};
  const missing: string[] = [];
  for (const [ours, required] of Object.entries(SC_COLUMNS) as Array<[ScColumn, boolean]>) {
    const theirs = overrides[ours] ?? ours;
    if (have.includes(theirs)) col[ours] = theirs;
    else if (required || overrides[ours] !== undefined) missing.push(theirs === ours ? `'${ours}'` : `'${theirs}' (for ${ours})`);
  }
  if (missing.length) throw new TceError('SC_MISMATCH', `${file}: table '${table}' lacks column(s) ${missing.join(', ')}. Found: ${listSchema(db)}`, 'map our names to theirs in dataset.selfConsistency.columns');

  let where = '';
  const params: string[] = [];
  if (col.experiment_id) {
    const ids = (db.prepare(`SELECT DISTINCT ${quoteIdent(col.experiment_id)} AS id FROM ${quoteIdent(table)} ORDER BY 1`).all() as Array<{ id: unknown }>).map((r) => String(r.id));
    if (ids.length === 0) throw new TceError('SC_EMPTY', `${file}: table '${table}' is empty (no greedy predictions)`, 'point dataset.selfConsistencyDb at the database that holds the baseline, or run `tce synth`');
    const want = opts.experimentId ?? (ids.length === 1 ? ids[0] : undefined);
    if (want === undefined) throw new TceError('SC_MISMATCH', `${file}: table '${table}' holds several experiments (${ids.join(', ')}); which one is the greedy baseline?`, 'set dataset.selfConsistency.experimentId');
    if (!ids.includes(want)) throw new TceError('SC_MISMATCH', `${file}: table '${table}' has no experiment '${want}' (found: ${ids.join(', ') || 'none'})`, 'set dataset.selfConsistency.experimentId to one of them');
    where = ` WHERE ${quoteIdent(col.experiment_id)} = ?`;
    params.push(want);
  } else if (opts.experimentId !== undefined) {
    throw new TceError('SC_MISMATCH', `${file}: experimentId '${opts.experimentId}' given but table '${table}' has no experiment_id column. Found: ${listSchema(db)}`, 'map experiment_id in dataset.selfConsistency.columns');
  }
  const names = Object.keys(col) as ScColumn[];
  // `only`: SQLite skips the other rows (CAST: an id stored as text still matches).
  const picked = opts.only ? `${where ? ' AND' : ' WHERE'} CAST(${quoteIdent(col.sample_id!)} AS INTEGER) IN (SELECT value FROM json_each(?))` : '';
  const sql = `SELECT ${names.map((n) => `${quoteIdent(col[n]!)} AS ${quoteIdent(n)}`).join(', ')} FROM ${quoteIdent(table)}${where}${picked} ORDER BY ${quoteIdent(col.sample_id!)}`;
  const rows = db.prepare(sql).raw(true).all(...params, ...(opts.only ? [JSON.stringify([...opts.only])] : [])) as unknown[][];
  const empty = rows.length === 0 && (!opts.only || db.prepare(`SELECT 1 FROM ${quoteIdent(table)}${where} LIMIT 1`).get(...params) === undefined);
  if (empty) throw new TceError('SC_EMPTY', `${file}: table '${table}' is empty (no greedy predictions)`, 'point dataset.selfConsistencyDb at the database that holds the baseline, or run `tce synth`');
  const samples: Sample[] = [];
  const greedy = new Map<number, GreedyPrediction>();
  const idAt = names.indexOf('sample_id');
  const only = opts.only;
  rows.forEach((raw, i) => {
    if (only && !only.has(idOf(raw[idAt]))) return;
    const r: Partial<Record<ScColumn, unknown>> = {};
    names.forEach((n, j) => { r[n] = raw[j]; });
    try {
      const fields: Partial<Record<SampleField, unknown>> = { ...r, image: null };
      const s = sampleFromFields(fields);
      samples.push(s);
      if (typeof r.generated_text !== 'string') throw new FieldError('generated_text', `expected text, found ${r.generated_text === null ? 'NULL' : typeof r.generated_text}`);
      greedy.set(s.sampleId, {
        sampleId: s.sampleId,
        scene: toScene(r.predicted_scene, 'predicted_scene'),
        longAction: toLongAction(r.predicted_long_action, 'predicted_long_action'),
        latAction: toLatAction(r.predicted_lat_action, 'predicted_lat_action'),
        waypoints: toWaypoints(r.predicted_waypoints, 'predicted_waypoints'),
        generatedText: r.generated_text,
      });
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      const theirs = col[e.field as ScColumn] ?? e.field;
      throw new TceError('DATA_ROW', `${file}: table '${table}', row ${i} (sample_id ${String(r.sample_id)}), column '${theirs}': ${e.message}`, 'fix the row, or map the right column in dataset.selfConsistency.columns');
    }
  });
  checkUniqueIds(samples, `${file}: table '${table}'`);
  return { samples, greedy };
}
