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
import type { z } from 'zod';
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

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);

/** The zod schemas of the files, for their messages: built (and zod loaded,
 * ~0.1 s of CPU) only when a file fails the plain checks below, so a
 * process that only writes and reopens run directories (the crash children
 * of test 27, a worker decoding run files) does without. */
let schemas: { experiment: z.ZodType<Record<string, unknown>>; marker: z.ZodType<CommitMarker> } | null = null;
function zodSchemas(): NonNullable<typeof schemas> {
  if (!schemas) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { z } = require('zod') as typeof import('zod');
    const count = z.number().refine(Number.isSafeInteger, 'expected an integer');
    schemas = {
      experiment: z.record(z.string(), z.unknown(), 'expected a JSON object (the experiments row)'),
      marker: z.object({
        batch: count,
        samples: count,
        files: z.object(Object.fromEntries(RUN_TABLES.map((t) => [t, z.object({ file: z.string(), rows: count, bytes: count })])) as Record<RunTable, z.ZodObject<{ file: z.ZodString; rows: typeof count; bytes: typeof count }>>),
      }),
    };
  }
  return schemas;
}

/** A schema for parseJsonFile: `plain` accepts (and shapes, as zod's
 * parse would) what the zod schema accepts; anything else goes to zod. */
function checkedBy<T>(plain: (raw: unknown) => T | null, schema: () => z.ZodType<T>): z.ZodType<T> {
  const safeParse = (raw: unknown) => {
    const data = plain(raw);
    return data !== null ? { success: true as const, data } : schema().safeParse(raw);
  };
  return { safeParse } as unknown as z.ZodType<T>;
}

/** experiment.json: a JSON object, then checked field by field against the experiments declaration. */
const ExperimentFileSchema = checkedBy((raw) => (isObject(raw) ? { ...raw } : null), () => zodSchemas().experiment);

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

/** The marker's fields alone (zod's object drops unknown keys too). */
function plainMarker(raw: unknown): CommitMarker | null {
  if (!isObject(raw) || !isCount(raw['batch']) || !isCount(raw['samples']) || !isObject(raw['files'])) return null;
  const files = {} as CommitMarker['files'];
  for (const t of RUN_TABLES) {
    const f = raw['files'][t];
    if (!isObject(f) || typeof f['file'] !== 'string' || !isCount(f['rows']) || !isCount(f['bytes'])) return null;
    files[t] = { file: f['file'], rows: f['rows'], bytes: f['bytes'] };
  }
  return { batch: raw['batch'], samples: raw['samples'], files };
}
const MarkerSchema = checkedBy(plainMarker, () => zodSchemas().marker);

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
