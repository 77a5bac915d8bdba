// Where the greedy baseline sits in a self_consistency.db: the table, our
// columns resolved to theirs, and the experiment to read. Shared by the
// importer and `tce inspect-db`; a mismatch becomes an error that lists what
// the file has and the names closest to each one missing, so the mapping
// can be written at once.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { SC_COLUMNS, SC_COLUMN_NAMES, type ScColumn } from '../config/self-consistency';
import { TceError } from '../util/errors';
import { closestNames } from '../util/closest';
import { escapeControl } from '../util/text';

/** A name or value from the database, quoted and safe for a terminal. */
export const shownName = (s: string): string => `'${escapeControl(s, { oneLine: true })}'`;
export const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
// SQLite matches identifiers case-insensitively, ASCII letters only.
const foldCase = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const findName = (names: readonly string[], want: string): string | undefined => names.find((n) => n === want) ?? names.find((n) => foldCase(n) === foldCase(want));

/** Opens read-only (never switched to WAL, never written). */
export function openScDb(file: string): Database.Database {
  if (!fs.existsSync(file)) throw new TceError('SC_NOT_FOUND', `${file}: no such self_consistency database`, 'set dataset.selfConsistencyDb in the config, or run `tce synth`');
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('schema_version');
    return db;
  } catch (e) {
    throw new TceError('SC_INVALID', `${file}: not a readable SQLite database (${(e as Error).message})`);
  }
}

export interface ScTable {
  name: string;
  columns: string[];
}

export function listTables(db: Database.Database): ScTable[] {
  const names = (db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  return names.map((name) => ({ name, columns: (db.prepare('SELECT name FROM pragma_table_info(?)').all(name) as Array<{ name: string }>).map((c) => c.name) }));
}

function listSchema(tables: readonly ScTable[]): string {
  if (tables.length === 0) return 'no tables';
  return tables.map((t) => `${escapeControl(t.name, { oneLine: true })}(${t.columns.map((c) => escapeControl(c, { oneLine: true })).join(', ')})`).join('; ');
}

export interface ScMappingOptions {
  table?: string;
  /** Our column name -> theirs (null = not in this database); only where they differ. */
  columns?: Partial<Record<string, string | null | undefined>>;
}

export interface ScLayout {
  /** The table as the database spells it (as configured when it is missing). */
  table: string;
  tables: ScTable[];
  /** Columns of the chosen table; empty when there is no such table. */
  columns: string[];
  /** Ours -> theirs, for the columns that will be read. */
  col: Partial<Record<ScColumn, string>>;
  /** Ours -> the name looked for, for the columns the table lacks but needs. */
  missing: Partial<Record<ScColumn, string>>;
  /** Declared null, or optional and not in the table. */
  absent: ScColumn[];
}

export function resolveLayout(db: Database.Database, opts: ScMappingOptions): ScLayout {
  const overrides = opts.columns ?? {};
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in SC_COLUMNS)) throw new TceError('SC_MAPPING', `dataset.selfConsistency.columns: '${k}' is not one of our column names (${SC_COLUMN_NAMES.join(', ')})`);
    if (v === null && SC_COLUMNS[k as ScColumn].need === 'required') throw new TceError('SC_MAPPING', `dataset.selfConsistency.columns.${k} cannot be null: the importer needs it`);
  }
  const tables = listTables(db);
  const want = opts.table ?? 'predictions';
  const found = tables.find((t) => t.name === want) ?? tables.find((t) => foldCase(t.name) === foldCase(want));
  const layout: ScLayout = { table: found?.name ?? want, tables, columns: found?.columns ?? [], col: {}, missing: {}, absent: [] };
  if (!found) return layout;
  for (const ours of SC_COLUMN_NAMES) {
    const configured = overrides[ours];
    if (configured === null) {
      layout.absent.push(ours);
      continue;
    }
    const theirs = findName(found.columns, configured ?? ours);
    if (theirs !== undefined) layout.col[ours] = theirs;
    else if (configured !== undefined || SC_COLUMNS[ours].need !== 'optional') layout.missing[ours] = configured ?? ours;
    else layout.absent.push(ours);
  }
  return layout;
}

function closestLine(want: string, among: readonly string[]): string {
  const near = closestNames(want, among);
  return near.length ? `closest: ${near.map(shownName).join(', ')}` : 'no close match';
}

/** Why the importer cannot read this layout, or null when it can. */
export function layoutError(file: string, l: ScLayout): TceError | null {
  if (l.columns.length === 0) {
    const names = l.tables.map((t) => t.name);
    return new TceError('SC_MISMATCH', `${file}: no table ${shownName(l.table)}. Found: ${listSchema(l.tables)}\n  table: ${closestLine(l.table, names)} -> set dataset.selfConsistency.table`, 'set dataset.selfConsistency.table (and .columns) in the config; `tce inspect-db FILE` shows what is there');
  }
  const missing = Object.entries(l.missing) as Array<[ScColumn, string]>;
  if (missing.length === 0) return null;
  const names = missing.map(([ours, theirs]) => (theirs === ours ? shownName(ours) : `${shownName(theirs)} (for ${ours})`));
  const lines = missing.map(([ours, theirs]) => {
    const orNull = SC_COLUMNS[ours].need === 'required' ? '' : ' (or null: this database has none)';
    return `  ${ours}: looked for ${shownName(theirs)}; ${closestLine(theirs, l.columns)} -> set dataset.selfConsistency.columns.${ours}${orNull}`;
  });
  return new TceError('SC_MISMATCH', `${file}: table ${shownName(l.table)} lacks column(s) ${names.join(', ')}. Found: ${listSchema(l.tables)}\n${lines.join('\n')}`, 'map our names to theirs in dataset.selfConsistency.columns (docs/data.md); `tce inspect-db FILE` shows what is there');
}

/** Rows of the chosen table the importer reads: one experiment's, and only
 * the picked sample_ids (a --limit run). */
export interface ScScope {
  where: string;
  params: unknown[];
  experimentId: string | null;
}

export function experimentCounts(db: Database.Database, l: ScLayout): Array<{ id: string; rows: number }> {
  if (!l.col.experiment_id) return [];
  const rows = db.prepare(`SELECT ${quoteIdent(l.col.experiment_id)} AS id, COUNT(*) AS n FROM ${quoteIdent(l.table)} GROUP BY 1 ORDER BY 1`).all() as Array<{ id: unknown; n: number }>;
  return rows.map((r) => ({ id: String(r.id), rows: r.n }));
}

const EMPTY_HINT = 'point dataset.selfConsistencyDb at the database that holds the baseline, or run `tce synth`';

export function scopeOf(db: Database.Database, file: string, l: ScLayout, experimentId: string | undefined, only?: ReadonlySet<number>): ScScope {
  const table = shownName(l.table);
  const scope: ScScope = { where: '', params: [], experimentId: null };
  if (l.col.experiment_id) {
    const ids = experimentCounts(db, l).map((e) => e.id);
    if (ids.length === 0) throw new TceError('SC_EMPTY', `${file}: table ${table} is empty (no greedy predictions)`, EMPTY_HINT);
    const want = experimentId ?? (ids.length === 1 ? ids[0] : undefined);
    const found = ids.map((i) => escapeControl(i, { oneLine: true })).join(', ');
    if (want === undefined) throw new TceError('SC_MISMATCH', `${file}: table ${table} holds several experiments (${found}); which one is the greedy baseline?`, 'set dataset.selfConsistency.experimentId');
    if (!ids.includes(want)) throw new TceError('SC_MISMATCH', `${file}: table ${table} has no experiment ${shownName(want)} (found: ${found || 'none'})`, 'set dataset.selfConsistency.experimentId to one of them');
    scope.where = ` WHERE ${quoteIdent(l.col.experiment_id)} = ?`;
    scope.params.push(want);
    scope.experimentId = want;
  } else if (experimentId !== undefined) {
    throw new TceError('SC_MISMATCH', `${file}: experimentId ${shownName(experimentId)} given but table ${table} has no experiment_id column. Found: ${listSchema(l.tables)}`, 'map experiment_id in dataset.selfConsistency.columns');
  }
  if (db.prepare(`SELECT 1 FROM ${quoteIdent(l.table)}${scope.where} LIMIT 1`).get(...scope.params) === undefined) {
    throw new TceError('SC_EMPTY', `${file}: table ${table} is empty (no greedy predictions)`, EMPTY_HINT);
  }
  if (only) {
    // SQLite skips the other rows (CAST: an id stored as text still matches).
    scope.where += `${scope.where ? ' AND' : ' WHERE'} CAST(${quoteIdent(l.col.sample_id!)} AS INTEGER) IN (SELECT value FROM json_each(?))`;
    scope.params.push(JSON.stringify([...only]));
  }
  return scope;
}
