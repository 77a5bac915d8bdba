// Reads committed run directories column-wise (never through row proxies).
import fs from 'node:fs';
import path from 'node:path';
import { RUN_TABLES, runTableLayouts, type RunTable } from './arrow-schema';
import { decodeTable, materialize, type DecodeOptions, type DecodedTable } from './arrow-columns';
import { EXPERIMENT_FILE, checkedBatch, readExperimentFile, scanRunDir, type CommittedBatch } from './run-dir';
import type { Cell, ExperimentRow, PredictionRow, ToolCallRow, TurnRow } from './rows';
import { TceError } from '../util/errors';

export interface RunBatch {
  batch: number;
  paths: Record<RunTable, string>;
  tables: Record<RunTable, DecodedTable>;
}

function decodeBatchTable({ marker, paths }: CommittedBatch, t: RunTable, opts: DecodeOptions): DecodedTable {
  const decoded = decodeTable(runTableLayouts()[t], fs.readFileSync(paths[t]), paths[t], opts);
  if (decoded.length !== marker.files[t].rows) throw new TceError('RUN_DIR_INVALID', `${paths[t]}: ${decoded.length} rows, but its commit marker recorded ${marker.files[t].rows}`);
  return decoded;
}

function decodeBatch(c: CommittedBatch, opts: DecodeOptions): RunBatch {
  const tables = {} as Record<RunTable, DecodedTable>;
  for (const t of RUN_TABLES) tables[t] = decodeBatchTable(c, t, opts);
  return { batch: c.marker.batch, paths: c.paths, tables };
}

/** Every committed batch of a run directory, decoded (`onBatch` after each). */
export function readRunBatches(dir: string, opts: DecodeOptions = {}, onBatch?: () => void): RunBatch[] {
  return scanRunDir(dir).committed.map((c) => {
    const b = decodeBatch(c, opts);
    onBatch?.();
    return b;
  });
}

/** One committed batch, decoded (the suite's load takes each as it commits). */
export function readRunBatch(dir: string, batch: number, opts: DecodeOptions = {}): RunBatch {
  return decodeBatch(checkedBatch(dir, batch), opts);
}

/** A table column-wise: one array per declared column, NULL as null. */
export interface TableColumns<R> {
  columns: { [K in keyof R]-?: ArrayLike<Exclude<R[K], undefined> | null> };
  length: number;
}

export interface RunDirContents {
  experiment: ExperimentRow;
  tables: { predictions: TableColumns<PredictionRow>; turns: TableColumns<TurnRow>; tool_calls: TableColumns<ToolCallRow> };
}

function joinedTable(t: RunTable, parts: readonly DecodedTable[]): { columns: Record<string, ArrayLike<Cell>>; length: number } {
  const length = parts.reduce((s, d) => s + d.length, 0);
  const columns: Record<string, ArrayLike<Cell>> = {};
  for (const c of runTableLayouts()[t].columns) columns[c.name] = materialize(parts.map((d) => d.cells[c.name]!));
  return { columns, length };
}

/** The experiment row and every committed row of each table, column-wise. */
export function readRunDir(dir: string): RunDirContents {
  const experiment = readExperimentFile(dir);
  const batches = readRunBatches(dir);
  const tables: Record<string, { columns: Record<string, ArrayLike<Cell>>; length: number }> = {};
  for (const t of RUN_TABLES) tables[t] = joinedTable(t, batches.map((b) => b.tables[t]));
  // Every declared column was decoded (the layout is the declaration).
  return { experiment, tables: tables as unknown as RunDirContents['tables'] };
}

/** The experiment row and the predictions alone (the oracle gate, a live
 * baseline's answers): the turns and tool calls, most of a run folder's
 * bytes, are neither read nor decoded. The same checks as readRunDir. */
export function readRunPredictions(dir: string): { experiment: ExperimentRow; predictions: RunDirContents['tables']['predictions'] } {
  const experiment = readExperimentFile(dir);
  const parts = scanRunDir(dir).committed.map((c) => decodeBatchTable(c, 'predictions', {}));
  return { experiment, predictions: joinedTable('predictions', parts) as unknown as RunDirContents['tables']['predictions'] };
}

const isRunDir = (p: string): boolean => fs.existsSync(path.join(p, EXPERIMENT_FILE));

/** Run directories named by `paths`: each may be a run directory or a
 * folder holding them at any depth up to three (a runs folder, a node's
 * copy of one, a folder of nodes' copies). Sorted, without duplicates. */
export function listRunDirs(paths: string[]): string[] {
  const found = new Set<string>();
  const walk = (p: string, depth: number): number => {
    if (isRunDir(p)) { found.add(fs.realpathSync(p)); return 1; }
    if (depth === 0) return 0;
    let n = 0;
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) n += walk(path.join(p, e.name), depth - 1);
    }
    return n;
  };
  for (const p of paths) {
    let st: fs.Stats;
    try { st = fs.statSync(p); } catch {
      throw new TceError('RUN_DIR_MISSING', `${p}: no such directory`, 'pass run directories or folders that hold them (default: paths.runsDir of the config)');
    }
    if (!st.isDirectory()) throw new TceError('RUN_DIR_MISSING', `${p}: not a directory`);
    if (walk(p, 3) === 0) throw new TceError('RUN_DIR_MISSING', `${p}: holds no run directory (none with ${EXPERIMENT_FILE} within three levels)`);
  }
  return [...found].sort();
}
