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

function decodeBatch({ marker, paths }: CommittedBatch, opts: DecodeOptions): RunBatch {
  const layouts = runTableLayouts();
  const tables = {} as Record<RunTable, DecodedTable>;
  for (const t of RUN_TABLES) {
    const decoded = decodeTable(layouts[t], fs.readFileSync(paths[t]), paths[t], opts);
    if (decoded.length !== marker.files[t].rows) throw new TceError('RUN_DIR_INVALID', `${paths[t]}: ${decoded.length} rows, but its commit marker recorded ${marker.files[t].rows}`);
    tables[t] = decoded;
  }
  return { batch: marker.batch, paths, tables };
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

/** The experiment row and every committed row of each table, column-wise. */
export function readRunDir(dir: string): RunDirContents {
  const experiment = readExperimentFile(dir);
  const batches = readRunBatches(dir);
  const layouts = runTableLayouts();
  const tables: Record<string, { columns: Record<string, ArrayLike<Cell>>; length: number }> = {};
  for (const t of RUN_TABLES) {
    const length = batches.reduce((s, b) => s + b.tables[t].length, 0);
    const columns: Record<string, ArrayLike<Cell>> = {};
    for (const c of layouts[t].columns) columns[c.name] = materialize(batches.map((b) => b.tables[t].cells[c.name]!));
    tables[t] = { columns, length };
  }
  // Every declared column was decoded (the layout is the declaration).
  return { experiment, tables: tables as unknown as RunDirContents['tables'] };
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
