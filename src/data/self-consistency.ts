// The self_consistency.db importer: ground truth and the greedy baseline,
// one row per sample. The default layout is what `tce synth` writes
// (docs/data.md); a real database with other names or spellings is read
// through the config's mapping (dataset.selfConsistency: table, columns,
// value maps). The layout is checked before any row is read, label values
// as the rows are read; each mismatch names what the file has (sc-layout.ts,
// sc-values.ts).
import type Database from 'better-sqlite3';
import type { GreedyPrediction, Sample } from '../domain/sample';
import type { ScColumn } from '../config/self-consistency';
import { TceError } from '../util/errors';
import { FieldError, checkUniqueIds, sampleFromFields, toLatAction, toLongAction, toScene, toWaypoints, type SampleField } from './sample-fields';
import { layoutError, openScDb, quoteIdent, resolveLayout, scopeOf, shownName, type ScLayout, type ScMappingOptions } from './sc-layout';
import { UnmappedValues, labelColumns, labelOf, mapLabel, type ScValueMaps } from './sc-values';

export const SC_DEFAULT_TABLE = 'predictions';

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

export interface ReadScOptions extends ScMappingOptions {
  experimentId?: string;
  /** Their label spellings -> ours, per label kind. */
  values?: ScValueMaps;
  /** Only these sample_ids are parsed (a --limit run); other rows are skipped unchecked. */
  only?: ReadonlySet<number>;
}

export interface ScRead {
  samples: Sample[];
  greedy: Map<number, GreedyPrediction>;
}

export function readSelfConsistencyDb(file: string, opts: ReadScOptions = {}): ScRead {
  const db = openScDb(file);
  try {
    return readSelfConsistencyFrom(db, file, opts);
  } finally {
    db.close();
  }
}

/** A row's sample_id for the `only` filter; an invalid one (NaN) is never
 * picked, so it is never reported either. */
const idOf = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : NaN);

/** The import from an open database (`tce inspect-db` reuses it, so its verdict is the importer's). */
export function readSelfConsistencyFrom(db: Database.Database, file: string, opts: ReadScOptions): ScRead {
  const l = resolveLayout(db, opts);
  const bad = layoutError(file, l);
  if (bad) throw bad;
  const scope = scopeOf(db, file, l, opts.experimentId, opts.only);
  const maps = opts.values ?? {};
  const names = Object.keys(l.col) as ScColumn[];
  const sql = `SELECT ${names.map((n) => `${quoteIdent(l.col[n]!)} AS ${quoteIdent(n)}`).join(', ')} FROM ${quoteIdent(l.table)}${scope.where} ORDER BY ${quoteIdent(l.col.sample_id!)}`;
  const rows = db.prepare(sql).raw(true).all(...scope.params) as unknown[][];
  const out: ScRead = { samples: [], greedy: new Map() };
  const idAt = names.indexOf('sample_id');
  const labels = labelColumns(l);
  const unmapped = new UnmappedValues(maps);
  rows.forEach((raw, i) => {
    if (opts.only && !opts.only.has(idOf(raw[idAt]))) return;
    const r: Partial<Record<ScColumn, unknown>> = {};
    names.forEach((n, j) => { r[n] = raw[j]; });
    // Past the first unmapped value, rows are only scanned for the others.
    if (!unmapped.checkRow(r, labels) || unmapped.found) return;
    for (const c of labels) r[c] = mapLabel(maps, labelOf(c)!, r[c]);
    try {
      convertRow(r, out);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      throw rowError(file, l, i, r, e);
    }
  });
  const unmappedError = unmapped.error(file, l);
  if (unmappedError) throw unmappedError;
  try {
    checkUniqueIds(out.samples, `${file}: table ${shownName(l.table)}`);
  } catch (e) {
    // Several runs in one table and no experiment column mapped: each sample repeats once per run.
    if (e instanceof TceError && l.col.experiment_id === undefined) throw new TceError(e.code, e.message, 'if the table holds several runs, map experiment_id in dataset.selfConsistency.columns and set dataset.selfConsistency.experimentId');
    throw e;
  }
  return out;
}

/** One row (label values already mapped) into a sample and its greedy prediction. */
function convertRow(r: Partial<Record<ScColumn, unknown>>, out: ScRead): void {
  const fields: Partial<Record<SampleField, unknown>> = { ...r, image: null };
  const s = sampleFromFields(fields);
  out.samples.push(s);
  const text = r.generated_text;
  if (text !== undefined && typeof text !== 'string') throw new FieldError('generated_text', `expected text, found ${text === null ? 'NULL' : typeof text}`);
  out.greedy.set(s.sampleId, {
    sampleId: s.sampleId,
    scene: toScene(r.predicted_scene, 'predicted_scene'),
    longAction: toLongAction(r.predicted_long_action, 'predicted_long_action'),
    latAction: toLatAction(r.predicted_lat_action, 'predicted_lat_action'),
    waypoints: toWaypoints(r.predicted_waypoints, 'predicted_waypoints'),
    generatedText: text ?? null,
  });
}

function rowError(file: string, l: ScLayout, i: number, r: Partial<Record<ScColumn, unknown>>, e: FieldError): TceError {
  const theirs = l.col[e.field as ScColumn] ?? e.field;
  return new TceError('DATA_ROW', `${file}: table ${shownName(l.table)}, row ${i} (sample_id ${String(r.sample_id)}), column ${shownName(theirs)}: ${e.message}`, 'fix the row, or map the right column in dataset.selfConsistency.columns');
}
