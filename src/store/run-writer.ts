// Arrow intermediates of one experiment: finished samples are queued and
// flushed as one record batch per table plus a commit marker written last,
// each file crash-safe (durable-file.ts). A sample is done only once its
// batch is committed, so `kill -9` at any moment loses at most the queued
// samples, which a resumed run produces again; none is ever on disk twice.
import { isFailedStatus } from '../protocol/definitions';
import fs from 'node:fs';
import path from 'node:path';
import { RUN_TABLES, runTableLayouts, type RunTable } from './arrow-schema';
import { decodeTable, fillColumns } from './arrow-columns';
import { EXPERIMENT_FILE, LOCK_FILE, readExperimentFile, scanRunDir } from './run-dir';
import { commitInThread } from './run-write-thread';
import type { BatchJob } from './batch-commit';
import { syncDir, writeDurable, writeDurableSync } from './durable-file';
import type { AnyRow, ExperimentRow, RunWriter, SampleRecord } from './rows';
import { TceError } from '../util/errors';
import { dedupeBatchParts } from './request-parts';

export interface RunWriterOptions {
  /** Samples queued before a flush starts by itself (default 256). */
  flushRows?: number;
  /** The run directory's name under runsDir (default: the experiment id;
   * a shard's copy adds its shard, so shards may share one runs folder). */
  dirName?: string;
  /** Called with each batch's number once its commit marker is durable
   * (the suite's load takes the batch from there: load-thread.ts). */
  onCommit?: ((batch: number) => void) | undefined;
}

const DEFAULT_FLUSH_ROWS = 256;
// Experiment ids become directory names.
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** One writer per run directory: a second live process would number its
 * batches over ours. A lock left by a killed process is taken over. */
function acquireLock(dir: string): string {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (pid === process.pid) return file;
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) throw new TceError('RUN_LOCKED', `${dir}: process ${pid} is writing this run`, `wait for it to finish or stop it; if no tce process ${pid} exists (the id was reused), delete ${file}`);
      fs.rmSync(file, { force: true });
    }
  }
  throw new TceError('RUN_LOCKED', `${file}: could not take the writer lock`);
}

function checkExperimentRow(row: ExperimentRow, what: string): string {
  // Checked at run time too: the row may come from a file.
  const id: unknown = row.experiment_id;
  if (typeof id !== 'string' || !SAFE_ID.test(id)) throw new TceError('RUN_ROW_INVALID', `${what}: experiment_id ${JSON.stringify(id)} is not usable as a directory name (letters, digits, '.', '_', '-')`);
  for (const [k, v] of Object.entries(row)) {
    if (v !== null && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) throw new TceError('RUN_ROW_INVALID', `${what}: experiment ${id}: field ${k}: expected a string, finite number or null`);
  }
  return id;
}

class ArrowRunWriter implements RunWriter {
  private queue: SampleRecord[] = [];
  private readonly queued = new Set<number>();
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private finished = false;

  constructor(
    readonly experimentId: string,
    readonly dir: string,
    private readonly done: Set<number>,
    private nextBatch: number,
    private readonly flushRows: number,
    private readonly lockFile: string,
    private experiment: ExperimentRow,
    readonly freshDir: boolean,
    private readonly onCommit: ((batch: number) => void) | undefined,
  ) {}

  doneSampleIds(): Set<number> {
    return new Set(this.done);
  }

  append(rec: SampleRecord): void {
    if (this.failure) throw this.failure;
    if (this.finished) throw new TceError('RUN_FINISHED', `${this.dir}: append after finish`);
    const sid: unknown = rec.prediction.sample_id;
    if (typeof sid !== 'number' || !Number.isSafeInteger(sid)) throw new TceError('RUN_ROW_INVALID', `experiment ${this.experimentId}: predictions.sample_id: expected an integer, got ${JSON.stringify(sid)}`);
    if (this.done.has(sid) || this.queued.has(sid)) throw new TceError('RUN_SAMPLE_TWICE', `experiment ${this.experimentId} sample ${sid}: appended twice`, 'skip the ids in doneSampleIds() when resuming');
    this.queue.push(rec);
    this.queued.add(sid);
    if (this.queue.length >= this.flushRows) this.flush().catch(() => { /* kept in this.failure, rethrown by the next call */ });
  }

  flush(): Promise<void> {
    const p = this.chain.then(() => this.writeBatch());
    this.chain = p.catch((e: Error) => { this.failure ??= e; });
    return p;
  }

  async finish(experiment: ExperimentRow): Promise<void> {
    await this.flush();
    checkExperimentRow(experiment, path.join(this.dir, EXPERIMENT_FILE));
    if (experiment.experiment_id !== this.experimentId) throw new TceError('RUN_ROW_INVALID', `${this.dir}: finish() got experiment ${String(experiment.experiment_id)}`);
    this.experiment = { ...this.experiment, ...experiment };
    await writeDurable(path.join(this.dir, EXPERIMENT_FILE), JSON.stringify(this.experiment, null, 1) + '\n');
    await syncDir(this.dir);
    this.finished = true;
    fs.rmSync(this.lockFile, { force: true });
  }

  private async writeBatch(): Promise<void> {
    if (this.failure) throw this.failure;
    const recs = this.queue;
    if (recs.length === 0) return;
    this.queue = [];
    const batch = this.nextBatch++;
    const rows: Record<RunTable, AnyRow[]> = { predictions: [], turns: [], tool_calls: [] };
    const sids: Record<RunTable, number[]> = { predictions: [], turns: [], tool_calls: [] };
    for (const r of recs) {
      const sid = r.prediction.sample_id;
      rows.predictions.push(r.prediction); sids.predictions.push(sid);
      for (const t of r.turns) { rows.turns.push(t); sids.turns.push(sid); }
      for (const c of r.toolCalls) { rows.tool_calls.push(c); sids.tool_calls.push(sid); }
    }
    rows.turns = dedupeBatchParts(rows.turns as Array<{ request_json?: string | null; request_parts?: string | null }>);
    const layouts = runTableLayouts();
    const tables = {} as BatchJob['tables'];
    for (const t of RUN_TABLES) {
      const s = sids[t];
      tables[t] = fillColumns(layouts[t], rows[t], { experimentId: this.experimentId, sampleIds: s }, (i) => `experiment ${this.experimentId} sample ${s[i]} ${t} row ${i}`);
    }
    // Encoding, compression and the durable writes (data files, then the
    // commit marker) happen in the writer thread; the batch counts as done
    // only once its marker is durable there.
    await commitInThread({ dir: this.dir, batch, samples: recs.length, tables });
    for (const sid of sids.predictions) { this.done.add(sid); this.queued.delete(sid); }
    this.onCommit?.(batch);
  }
}

/** Opens (or resumes) the run directory `runsDir/<experiment_id>/`.
 * Resuming removes batches left without a commit marker and refuses a
 * directory started with a different config_hash. */
export function openRunWriter(runsDir: string, experiment: ExperimentRow, opts: RunWriterOptions = {}): RunWriter {
  const flushRows = opts.flushRows ?? DEFAULT_FLUSH_ROWS;
  if (!Number.isSafeInteger(flushRows) || flushRows < 1) throw new TypeError(`openRunWriter: options.flushRows must be a positive integer (got ${String(flushRows)})`);
  const id = checkExperimentRow(experiment, runsDir);
  const name = opts.dirName ?? id;
  if (!SAFE_ID.test(name)) throw new TceError('RUN_ROW_INVALID', `${runsDir}: run directory name ${JSON.stringify(name)} is not safe`);
  const dir = path.resolve(runsDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const lockFile = acquireLock(dir);
  try {
    const expFile = path.join(dir, EXPERIMENT_FILE);
    let row = experiment;
    if (fs.existsSync(expFile)) {
      const old = readExperimentFile(dir);
      const was = old.config_hash ?? null;
      const now = experiment.config_hash ?? null;
      if (was !== now) {
        throw new TceError('RUN_CONFIG_MISMATCH', `${expFile}: experiment ${id} was started with config_hash ${String(was)}; this run has ${String(now)}`, 'resume with the original config, or start a new experiment id');
      }
      row = { ...old, ...experiment };
    }
    const scan = scanRunDir(dir);
    for (const f of scan.leftovers) fs.rmSync(f, { force: true });
    writeDurableSync(expFile, JSON.stringify(row, null, 1) + '\n');
    // Samples whose last attempt failed (server error, timeout) are not
    // done: a resumed run tries them again, in a later batch, and the
    // earlier attempts stay in the folder.
    const done = new Set<number>();
    const failed = new Set<number>();
    for (const b of scan.committed) {
      const file = b.paths.predictions;
      const cells = decodeTable(runTableLayouts().predictions, fs.readFileSync(file), file).cells;
      const col = cells['sample_id']!;
      const status = cells['final_status']!;
      for (let i = 0; i < col.length; i++) {
        const sid = col.at(i) as number;
        if (done.has(sid)) throw new TceError('RUN_DIR_INVALID', `${file}: sample ${sid} is already in an earlier batch`, 'two writers shared this directory; `tce load` reports which copies differ');
        if (isFailedStatus(status.at(i) as string | null)) { failed.add(sid); continue; }
        failed.delete(sid);
        done.add(sid);
      }
    }
    return new ArrowRunWriter(id, dir, done, scan.lastBatch + 1, flushRows, lockFile, row, scan.committed.length === 0, opts.onCommit);
  } catch (e) {
    fs.rmSync(lockFile, { force: true });
    throw e;
  }
}
