// The on-disk layout of one experiment's run directory, shared by the
// writer (which creates and repairs it) and the reader (which never
// changes it, so `tce load` can read a directory a run is still writing).
//
//   <runsDir>/<experiment_id>/
//     experiment.json                 the experiments row (rewritten atomically)
//     b000001.predictions.arrow       one record batch per table per flush
//     b000001.turns.arrow
//     b000001.tool_calls.arrow
//     b000001.commit.json             written last: the batch exists only with it
import fs from 'node:fs';
import path from 'node:path';
import { RUN_TABLES, type RunTable } from './arrow-schema';
import type { ExperimentRow } from './rows';
import { EXPERIMENTS, type ColumnDecl } from './tables';
import { TMP_SUFFIX } from './durable-file';
import { z } from 'zod';
import { TceError } from '../util/errors';
import { parseJsonFile } from '../util/json-file';
import { batchName, type CommitMarker } from './batch-names';

export { batchName, type CommitMarker };

export const EXPERIMENT_FILE = 'experiment.json';
export const LOCK_FILE = 'writer.lock';
const BATCH_RE = /^b(\d{6,})\.(predictions|turns|tool_calls|commit)\.(arrow|json)$/;

export interface CommittedBatch {
  marker: CommitMarker;
  /** Absolute path of each table's file. */
  paths: Record<RunTable, string>;
}

/** experiment.json: a JSON object, then checked field by field against the experiments declaration. */
const ExperimentFileSchema = z.record(z.string(), z.unknown(), 'expected a JSON object (the experiments row)');

export function readExperimentFile(dir: string): ExperimentRow {
  const file = path.join(dir, EXPERIMENT_FILE);
  const row = parseJsonFile(file, ExperimentFileSchema, 'RUN_DIR_INVALID', { readHint: 'is this a tce run directory?' });
  // The file is outside input: checked against the experiments declaration.
  const columns: Readonly<Record<string, ColumnDecl>> = EXPERIMENTS.columns;
  for (const [k, v] of Object.entries(row)) {
    const c = columns[k];
    if (!c || c.dbOwned) throw new TceError('RUN_DIR_INVALID', `${file}: field ${k} is not a column of experiments`);
    const want = c.kind === 'text' ? 'string' : 'number';
    if (v !== null && typeof v !== want) throw new TceError('RUN_DIR_INVALID', `${file}: field ${k}: expected a ${want} or null`);
  }
  const r = row as ExperimentRow;
  if (typeof r.experiment_id !== 'string' || r.experiment_id === '') throw new TceError('RUN_DIR_INVALID', `${file}: field experiment_id: missing or not a string`);
  for (const [k, c] of Object.entries(columns)) {
    if (c.notNull && !c.dbOwned && (row as Record<string, unknown>)[k] == null) throw new TceError('RUN_DIR_INVALID', `${file}: field ${k}: missing (the column is NOT NULL)`);
  }
  return r;
}

const count = z.number().refine(Number.isSafeInteger, 'expected an integer');
const MarkerSchema = z.object({
  batch: count,
  samples: count,
  files: z.object(Object.fromEntries(RUN_TABLES.map((t) => [t, z.object({ file: z.string(), rows: count, bytes: count })])) as Record<RunTable, z.ZodObject<{ file: z.ZodString; rows: typeof count; bytes: typeof count }>>),
});

function parseMarker(file: string, batch: number): CommitMarker {
  const m = parseJsonFile(file, MarkerSchema, 'RUN_DIR_INVALID') as CommitMarker;
  if (m.batch !== batch) throw new TceError('RUN_DIR_INVALID', `${file}: commit marker does not describe batch ${batch}`);
  for (const t of RUN_TABLES) {
    if (m.files[t].file !== batchName(batch, t)) throw new TceError('RUN_DIR_INVALID', `${file}: field files.${t}: names ${m.files[t].file}, expected ${batchName(batch, t)}`);
  }
  return m;
}

export interface DirScan {
  committed: CommittedBatch[];
  /** Files of batches without a commit marker, and temporary files. */
  leftovers: string[];
  /** Highest batch number seen, committed or not. */
  lastBatch: number;
}

/** One committed batch, its files checked against its marker. */
export function checkedBatch(dir: string, b: number): CommittedBatch {
  const commit = batchName(b, 'commit');
  const marker = parseMarker(path.join(dir, commit), b);
  const paths = {} as Record<RunTable, string>;
  for (const t of RUN_TABLES) {
    const p = path.join(dir, marker.files[t].file);
    let size: number;
    try { size = fs.statSync(p).size; } catch {
      throw new TceError('RUN_DIR_INVALID', `${p}: missing, but ${commit} says it was written`, 'the directory was damaged after the run; copy it again from its source');
    }
    if (size !== marker.files[t].bytes) throw new TceError('RUN_DIR_INVALID', `${p}: ${size} bytes, but ${commit} recorded ${marker.files[t].bytes}`, 'the file was truncated or changed after it was written');
    paths[t] = p;
  }
  return { marker, paths };
}

/** Lists a run directory. Committed batches are checked against their
 * marker (every file present with the recorded size). */
export function scanRunDir(dir: string): DirScan {
  const names = fs.readdirSync(dir);
  const byBatch = new Map<number, string[]>();
  const leftovers: string[] = [];
  for (const name of names) {
    if (name.endsWith(TMP_SUFFIX)) { leftovers.push(path.join(dir, name)); continue; }
    const m = BATCH_RE.exec(name);
    if (!m) continue;
    const b = Number(m[1]);
    let list = byBatch.get(b);
    if (!list) byBatch.set(b, (list = []));
    list.push(name);
  }
  const committed: CommittedBatch[] = [];
  let lastBatch = 0;
  for (const [b, files] of [...byBatch].sort((x, y) => x[0] - y[0])) {
    lastBatch = Math.max(lastBatch, b);
    const commit = batchName(b, 'commit');
    if (!files.includes(commit)) { leftovers.push(...files.map((f) => path.join(dir, f))); continue; }
    committed.push(checkedBatch(dir, b));
  }
  return { committed, leftovers, lastBatch };
}
