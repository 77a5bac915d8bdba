// Arrow run directories → the experiment database. One transaction per
// experiment; copies of the same experiment (shards from several nodes, or
// the same directory twice) are merged sample by sample; samples already in
// the database are skipped, so loading the same files again changes nothing.
import path from 'node:path';
import { RUN_TABLES, runTableLayouts, type RunTable } from './arrow-schema';
import type { Cells } from './arrow-columns';
import { readExperimentFile, EXPERIMENT_FILE } from './run-dir';
import { WORKER_MIN_BYTES, arrowBytes, inlineSource, workerSource, DIGEST_CHARS, type BatchSource, type LoadBatch } from './batch-source';
import { tableColumns, type DB } from './db';
import type { AnyRow, Cell, ExperimentRow } from './rows';
import { TceError } from '../util/errors';
import { writeError } from './durable-file';
import { isFailedStatus } from '../protocol/definitions';
import { PREDICTIONS, TOOL_CALLS, TURNS, internedColumns, type TableDecl } from './tables';
import { TextStore } from './texts';
import { REKEYED } from './schema';

const DECLS: Record<RunTable, TableDecl> = { predictions: PREDICTIONS, turns: TURNS, tool_calls: TOOL_CALLS };

export interface LoadResult {
  experiments: number;
  predictions: number;
  turns: number;
  toolCalls: number;
  /** Samples not inserted: already in the database, or a second copy. */
  skipped: number;
}

export interface LoadOptions {
  log?: (line: string) => void;
  /** New rows from which a table's secondary indexes are dropped for the
   * load (default REINDEX_MIN_ROWS; tests lower it to load less). */
  reindexMinRows?: number;
  /** Decode the run files in a worker thread (default: from
   * WORKER_MIN_BYTES of Arrow files; tests force either way). */
  decodeWorker?: boolean;
}

/** Below this many new rows the secondary indexes stay; above it (and
 * above the rows already there) dropping and rebuilding them is cheaper. */
const REINDEX_MIN_ROWS = 20_000;

export interface Copy { dir: string; file: string; row: ExperimentRow }

// Text from run files is held as UTF-8 bytes (batch-source.ts decodes it so);
// the database gives strings.
function sameCell(a: Cell | undefined, b: Cell | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a === 'string' && b instanceof Uint8Array) return Buffer.compare(Buffer.from(a, 'utf8'), b) === 0;
  if (typeof b === 'string' && a instanceof Uint8Array) return Buffer.compare(Buffer.from(b, 'utf8'), a) === 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return false;
}

/** One experiments row from several copies: config hashes must agree;
 * differing shards are listed, sample counts summed, wall times maxed,
 * and the run counts as completed only when every copy completed. */
function mergeExperimentRows(copies: Copy[]): ExperimentRow {
  const first = copies[0]!;
  const row: ExperimentRow = { ...first.row };
  for (const c of copies.slice(1)) {
    if ((c.row.config_hash ?? null) !== (first.row.config_hash ?? null)) {
      throw new TceError('LOAD_CONFLICT', `experiment ${String(row.experiment_id)}: ${first.file} has config_hash ${String(first.row.config_hash)} but ${c.file} has ${String(c.row.config_hash)}`, 'these are different runs that share an experiment id; load them into different databases');
    }
  }
  if (copies.length === 1) return row;
  const shards = [...new Set(copies.map((c) => c.row.shard).filter((s): s is string => typeof s === 'string'))].sort();
  if (shards.length > 1) {
    row.shard = shards.join(',');
    const totals = copies.map((c) => c.row.total_samples);
    if (totals.every((t) => typeof t === 'number')) row.total_samples = (totals as number[]).reduce((s, t) => s + t, 0);
  }
  for (const k of ['total_wall_time_s', 'predict_wall_time_s', 'verify_wall_time_s'] as const) {
    const ts = copies.map((c) => c.row[k]).filter((t): t is number => typeof t === 'number');
    if (ts.length) row[k] = Math.max(...ts);
  }
  const unfinished = copies.find((c) => c.row.status !== 'completed');
  if (unfinished) row.status = unfinished.row.status;
  return row;
}

/** Where each sample's rows sit inside one batch. */
export class BatchIndex {
  readonly predRow = new Map<number, number>();
  readonly childRows: Record<'turns' | 'tool_calls', Map<number, number[]>> = { turns: new Map(), tool_calls: new Map() };
  constructor(readonly b: LoadBatch) {
    const sids = b.tables.predictions.cells['sample_id']!;
    for (let i = 0; i < sids.length; i++) {
      const sid = sids.at(i) as number;
      if (this.predRow.has(sid)) throw new TceError('RUN_DIR_INVALID', `${b.paths.predictions}: sample ${sid} appears twice in one batch`);
      this.predRow.set(sid, i);
    }
    for (const t of ['turns', 'tool_calls'] as const) {
      const col = b.tables[t].cells['sample_id']!;
      const m = this.childRows[t];
      for (let i = 0; i < col.length; i++) {
        const sid = col.at(i) as number;
        if (!this.predRow.has(sid)) throw new TceError('RUN_DIR_INVALID', `${b.paths[t]}: row ${i} belongs to sample ${sid}, which has no prediction in this batch`);
        let list = m.get(sid);
        if (!list) m.set(sid, (list = []));
        list.push(i);
      }
    }
  }
}

/** Whether a cell holds a failed status (text arrives as UTF-8 bytes). */
function failedCell(c: Cell | undefined): boolean {
  return isFailedStatus(c instanceof Uint8Array ? Buffer.from(c).toString('utf8') : typeof c === 'string' ? c : null);
}

/** The sample's attempt in this batch failed (server error, timeout). */
function failedIn(idx: BatchIndex, sid: number): boolean {
  return failedCell(idx.b.tables.predictions.cells['final_status']!.at(idx.predRow.get(sid)!));
}

/** The first column in which two copies of a sample differ, or null. */
function sampleDiff(a: BatchIndex, b: BatchIndex, sid: number): string | null {
  const layouts = runTableLayouts();
  for (const c of layouts.predictions.columns) {
    if (!sameCell(a.b.tables.predictions.cells[c.name]!.at(a.predRow.get(sid)!), b.b.tables.predictions.cells[c.name]!.at(b.predRow.get(sid)!))) return `predictions.${c.name}`;
  }
  for (const t of ['turns', 'tool_calls'] as const) {
    const ra = a.childRows[t].get(sid) ?? [];
    const rb = b.childRows[t].get(sid) ?? [];
    if (ra.length !== rb.length) return `${t} (${ra.length} rows vs ${rb.length})`;
    for (let k = 0; k < ra.length; k++) {
      for (const c of layouts[t].columns) {
        if (!sameCell(a.b.tables[t].cells[c.name]!.at(ra[k]!), b.b.tables[t].cells[c.name]!.at(rb[k]!))) return `${t}.${c.name}`;
      }
    }
  }
  return null;
}

/** Two runs with one experiment id but different configurations (started
 * in the same second, into separate run folders) are never merged into one
 * experiment: the second load is refused, naming both hashes. Copies of one
 * run (shards, a resumed run) share the config hash and merge as before. */
export function refuseOtherRun(db: DB, id: string, row: ExperimentRow, file: string): void {
  const had = db.prepare('SELECT config_hash AS h FROM experiments WHERE experiment_id = ?').get(id) as { h: string | null } | undefined;
  if (!had || had.h === null || row.config_hash === null || row.config_hash === undefined || had.h === row.config_hash) return;
  throw new TceError('LOAD_CONFLICT', `${file}: experiment ${id} has config_hash ${String(row.config_hash)}, but ${db.name} already holds experiment ${id} with config_hash ${had.h}`,
    'these are different runs that share an experiment id; load them into different databases (or rerun one: its id will differ)');
}

export function upsertExperiment(db: DB, row: ExperimentRow, file: string): void {
  const known = new Set(tableColumns(db, 'experiments').map((c) => c.name));
  const cols = Object.keys(row);
  for (const k of cols) if (!known.has(k)) throw new TceError('RUN_DIR_INVALID', `${file}: field ${k} is not a column of experiments`);
  const updates = cols.filter((c) => c !== 'experiment_id').map((c) => `"${c}" = excluded."${c}"`);
  const sql = `INSERT INTO experiments (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`
    + (updates.length ? ` ON CONFLICT(experiment_id) DO UPDATE SET ${updates.join(', ')}` : ' ON CONFLICT(experiment_id) DO NOTHING');
  try {
    db.prepare(sql).run(...cols.map((c) => (row as AnyRow)[c]));
  } catch (e) {
    throw new TceError('LOAD_FAILED', `${file}: cannot store the experiments row: ${(e as Error).message}`);
  }
}

/** Secondary indexes of a table: not a UNIQUE one (since migration 12 the
 * plan's idx_predictions_exp and idx_tool_calls_exp hold the tables' UNIQUE
 * constraints, which stay in force during a load). */
function secondaryIndexes(db: DB, table: RunTable): Array<{ name: string; sql: string }> {
  return db.prepare(`SELECT m.name, m.sql FROM sqlite_master m JOIN pragma_index_list(?) l ON l.name = m.name
    WHERE m.type = 'index' AND m.tbl_name = ? AND m.sql IS NOT NULL AND l."unique" = 0`).all(table, table) as Array<{ name: string; sql: string }>;
}

/** Rows of a run table: its largest id where it has one (no scan; ids only
 * grow), else (turns, WITHOUT ROWID) a count, a walk of its key. */
function tableRows(db: DB, table: RunTable): number {
  const q = table === 'turns' ? 'SELECT count(*) AS n FROM turns' : `SELECT max(id) AS n FROM ${table}`;
  return (db.prepare(q).get() as { n: number | null }).n ?? 0;
}

export interface RowsPart { cells: Record<string, Cells>; rows: number[]; digests: Record<string, string> | undefined }

export function insertRows(db: DB, table: RunTable, parts: RowsPart[], texts: TextStore): number {
  const layout = runTableLayouts()[table].columns;
  const interned = new Set(internedColumns(DECLS[table]));
  const cols = layout.map((c) => c.name);
  const ids = cols.filter((c) => interned.has(c));
  // Text arrives as UTF-8 bytes; CAST stores them as TEXT unchanged.
  const slots = [...layout.map((c) => (c.kind === 'text' ? 'CAST(? AS TEXT)' : '?')), ...ids.map(() => '?')];
  const stmt = db.prepare(`INSERT INTO ${table} (${[...cols, ...ids.map((c) => `${c}_text_id`)].map((c) => `"${c}"`).join(', ')}) VALUES (${slots.join(', ')})`);
  const at = ids.map((c) => cols.indexOf(c));
  const args: Cell[] = new Array(cols.length + ids.length);
  let n = 0;
  for (const [p, rows] of inKeyOrder(table, parts)) {
    const vecs = cols.map((c) => p.cells[c]!);
    // The decoding thread's digests, when it hashed: 44 characters a row.
    const digests = ids.map((c) => p.digests?.[c]);
    for (const i of rows) {
      for (let k = 0; k < vecs.length; k++) args[k] = vecs[k]!.at(i);
      for (let j = 0; j < at.length; j++) {
        const d = digests[j];
        [args[at[j]!], args[cols.length + j]] = texts.split(args[at[j]!]!, d === undefined ? undefined : d.substr(i * DIGEST_CHARS, DIGEST_CHARS));
      }
      stmt.run(...args);
      n++;
    }
  }
  return n;
}

/** Each run table's key column after (experiment_id, sample_id), read from
 * its layout (REKEYED, schema.ts: the UNIQUE index, or turns' primary key). */
const SECOND_KEY = Object.fromEntries(REKEYED.map(([t, layout]) => {
  const key = [...layout.constraints, ...layout.indexes].map((sql) => /(?:PRIMARY KEY|UNIQUE INDEX \w+ ON \w+)\s*\(experiment_id, sample_id(?:, (\w+))?\)/.exec(sql)).find((m) => m !== null);
  if (!key) throw new Error(`bulk-load: no (experiment_id, sample_id, ...) key in the layout of ${t.name}`);
  return [t.name, key[1] ?? null];
})) as Record<RunTable, string | null>;

/** The parts' rows in the order of the table's key (sample, then turn or
 * call), as runs of rows of one part. Samples finish in any order; appended
 * in key order, turns (keyed so) and the key indexes keep their pages
 * fuller (docs/storage.md, "Page fill"). */
function inKeyOrder(table: RunTable, parts: RowsPart[]): Array<[RowsPart, number[]]> {
  const second = SECOND_KEY[table];
  const n = parts.reduce((k, p) => k + p.rows.length, 0);
  const sid = new Float64Array(n);
  const sub = new Float64Array(n);
  const part = new Uint32Array(n);
  const row = new Uint32Array(n);
  let k = 0;
  parts.forEach((p, j) => {
    const sids = p.cells['sample_id']!;
    const subs = second ? p.cells[second]! : null;
    for (const i of p.rows) {
      sid[k] = sids.at(i) as number;
      sub[k] = subs ? (subs.at(i) as number) : 0;
      part[k] = j;
      row[k++] = i;
    }
  });
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => sid[a]! - sid[b]! || sub[a]! - sub[b]!);
  const out: Array<[RowsPart, number[]]> = [];
  let last = -1;
  for (const i of order) {
    if (part[i] !== last) { out.push([parts[part[i]!]!, []]); last = part[i]!; }
    out[out.length - 1]![1].push(row[i]!);
  }
  return out;
}

/** Removes from `take` the samples the database already holds, after
 * checking each one's prediction row equals the file's. Returns how many. */
function dropLoaded(db: DB, id: string, firstSeen: Map<number, BatchIndex>, take: Map<BatchIndex, Set<number>>): number {
  const cols = runTableLayouts().predictions.columns;
  const sidAt = cols.findIndex((c) => c.name === 'sample_id');
  const rows = db.prepare(`SELECT ${cols.map((c) => `"${c.name}"`).join(', ')} FROM predictions_full WHERE experiment_id = ?`).raw().all(id) as Cell[][];
  let n = 0;
  for (const dbRow of rows) {
    const sid = dbRow[sidAt] as number;
    const idx = firstSeen.get(sid);
    if (!idx) continue;
    const i = idx.predRow.get(sid)!;
    const bad = cols.findIndex((c, k) => !sameCell(dbRow[k], idx.b.tables.predictions.cells[c.name]!.at(i)));
    const statusAt = cols.findIndex((c) => c.name === 'final_status');
    if (bad >= 0 && failedCell(dbRow[statusAt]) && !failedIn(idx, sid)) {
      // The database holds a failed attempt the files have since answered.
      for (const t of ['tool_calls', 'turns', 'predictions']) db.prepare(`DELETE FROM ${t} WHERE experiment_id = ? AND sample_id = ?`).run(id, sid);
      continue;
    }
    if (bad >= 0 && failedIn(idx, sid) && !failedCell(dbRow[statusAt])) { take.get(idx)!.delete(sid); n++; continue; }
    if (bad >= 0) throw new TceError('LOAD_CONFLICT', `experiment ${id} sample ${sid}: ${idx.b.paths.predictions} differs from the row already in ${db.name} (predictions.${cols[bad]!.name})`, 'the database holds another run with this experiment id; use another --db');
    take.get(idx)!.delete(sid);
    n++;
  }
  return n;
}

/** The line a load logs per experiment. */
export function loadedLine(id: string, counts: Record<RunTable, number>, skipped = 0, retried = 0): string {
  return `${id}: ${counts.predictions} predictions, ${counts.turns} turns, ${counts.tool_calls} tool calls loaded${skipped ? `; ${skipped} samples skipped (already loaded, or a second copy)` : ''}${retried ? `; ${retried} failed attempts superseded by a retry (kept in the run folder)` : ''}`;
}

/** `batches`: each copy's decoded batches, in the order of `copies`. */
export function loadExperiment(db: DB, id: string, copies: Copy[], batches: LoadBatch[][], log: (l: string) => void, texts: TextStore, reindexMinRows = REINDEX_MIN_ROWS): Omit<LoadResult, 'experiments'> {
  const row = mergeExperimentRows(copies);
  refuseOtherRun(db, id, row, copies[0]!.file);
  if (copies.length > 1) log(`${id}: merging ${copies.length} copies: ${copies.map((c) => c.dir).join(', ')}`);
  const firstSeen = new Map<number, BatchIndex>();
  // Per batch, the samples whose rows go in (first copy of each sample).
  const take = new Map<BatchIndex, Set<number>>();
  let skipped = 0;
  let retried = 0;
  for (const copy of batches) {
    for (const b of copy) {
      const idx = new BatchIndex(b);
      const sids = new Set<number>();
      for (const sid of idx.predRow.keys()) {
        const prev = firstSeen.get(sid);
        if (!prev) { firstSeen.set(sid, idx); sids.add(sid); continue; }
        // A retried sample: the answer replaces the failed attempt (which
        // stays in its run folder); a failed attempt never replaces an answer.
        if (failedIn(prev, sid) && !failedIn(idx, sid)) { take.get(prev)?.delete(sid); firstSeen.set(sid, idx); sids.add(sid); retried++; continue; }
        if (failedIn(idx, sid) && !failedIn(prev, sid)) { retried++; continue; }
        const diff = sampleDiff(prev, idx, sid);
        if (diff) throw new TceError('LOAD_CONFLICT', `experiment ${id} sample ${sid}: ${prev.b.paths.predictions} and ${b.paths.predictions} hold different rows (${diff})`, 'two runs wrote the same experiment id; keep one of the copies');
        skipped++;
      }
      take.set(idx, sids);
    }
  }
  const counts: Record<RunTable, number> = { predictions: 0, turns: 0, tool_calls: 0 };
  db.transaction(() => {
    skipped += dropLoaded(db, id, firstSeen, take);
    upsertExperiment(db, row, copies[0]!.file);
    for (const t of RUN_TABLES) {
      const parts = [...take].map(([idx, sids]) => {
        const digests = idx.b.digests?.[t];
        if (t === 'predictions') return { cells: idx.b.tables.predictions.cells, rows: [...sids].map((s) => idx.predRow.get(s)!), digests };
        const rows: number[] = [];
        for (const s of sids) for (const r of idx.childRows[t].get(s) ?? []) rows.push(r);
        return { cells: idx.b.tables[t].cells, rows, digests };
      });
      const adding = parts.reduce((n, p) => n + p.rows.length, 0);
      if (adding === 0) continue;
      const secondary = adding >= reindexMinRows ? secondaryIndexes(db, t) : [];
      const reindex = secondary.length && adding >= tableRows(db, t) ? secondary : [];
      for (const ix of reindex) db.exec(`DROP INDEX "${ix.name}"`);
      counts[t] = insertRows(db, t, parts, texts);
      for (const ix of reindex) db.exec(ix.sql);
      if (reindex.length) log(`${id}: ${t}: ${reindex.length} indexes dropped for the load and rebuilt after it`);
    }
  })();
  log(loadedLine(id, counts, skipped, retried));
  return { predictions: counts.predictions, turns: counts.turns, toolCalls: counts.tool_calls, skipped };
}

/** Loads run directories into `db`. See the file comment for the rules. */
export function loadRuns(db: DB, dirs: string[], opts: LoadOptions = {}): LoadResult {
  const log = opts.log ?? (() => {});
  const groups = new Map<string, Copy[]>();
  for (const dir of [...new Set(dirs.map((d) => path.resolve(d)))].sort()) {
    const row = readExperimentFile(dir);
    const id = row.experiment_id;
    let list = groups.get(id);
    if (!list) groups.set(id, (list = []));
    list.push({ dir, file: path.join(dir, EXPERIMENT_FILE), row });
  }
  const total: LoadResult = { experiments: 0, predictions: 0, turns: 0, toolCalls: 0, skipped: 0 };
  const texts = new TextStore(db);
  const ids = [...groups.keys()].sort();
  const source = openSource(ids.map((id) => groups.get(id)!.map((c) => c.dir)), opts.decodeWorker);
  try {
    for (const id of ids) {
      let r: ReturnType<typeof loadExperiment>;
      try {
        r = loadExperiment(db, id, groups.get(id)!, source.next(), log, texts, opts.reindexMinRows);
      } catch (e) {
        throw writeError(db.name, e);
      }
      total.experiments++;
      total.predictions += r.predictions;
      total.turns += r.turns;
      total.toolCalls += r.toolCalls;
      total.skipped += r.skipped;
    }
  } finally {
    source.close();
  }
  return total;
}

function openSource(groups: string[][], worker: boolean | undefined): BatchSource {
  return worker ?? arrowBytes(groups.flat()) >= WORKER_MIN_BYTES ? workerSource(groups) : inlineSource(groups);
}

