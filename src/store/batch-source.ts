// The decoded run batches of each experiment, in the order the bulk load
// takes them. A big load decodes them (Arrow, LZ4) and hashes their long
// texts in a worker thread, one experiment ahead of this thread's inserts:
// decoding and hashing were ~a third of the main thread's load, and the
// SQLite inserts, which must stay on one connection, bound it now. The
// load stays synchronous (it runs inside transactions): this thread blocks
// on a shared counter until the worker has posted the next experiment, in
// slices, so that a worker that ended or stalls is an error, not a hang.
import fs from 'node:fs';
import path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { RUN_TABLES, type RunTable } from './arrow-schema';
import { cellsFromWire, cellsToWire, type Cells, type CellsWire } from './arrow-columns';
import { readRunBatches, type RunBatch } from './run-reader';
import { errorFromWire, type WireError } from '../util/thread-error';
import { TceError } from '../util/errors';
import { CANCELLED, EXITED, FLAGS, HEARTBEAT, POSTED, TAKEN } from './decode-flags';

export { CANCELLED, HEARTBEAT, POSTED, TAKEN, flagExitOnEnd } from './decode-flags';

export interface LoadBatch extends RunBatch {
  /** Per table and interned column: each row's textDigest, 44 characters
   * a row (blanks where the cell stays inline), when the worker hashed. */
  digests?: Partial<Record<RunTable, Record<string, string>>>;
}

/** Per experiment, in the order given: each copy's batches. */
export interface BatchSource {
  next(): LoadBatch[][];
  close(): void;
}

export const DIGEST_CHARS = 44;

/** Below this many bytes of Arrow files the worker's start (~0.1 s) costs
 * more than it saves; tests and small loads decode on this thread. */
export const WORKER_MIN_BYTES = 4 << 20;

export function arrowBytes(dirs: string[]): number {
  let n = 0;
  for (const d of dirs) for (const f of fs.readdirSync(d)) if (f.endsWith('.arrow')) n += fs.statSync(path.join(d, f)).size;
  return n;
}

/** Decodes on the calling thread, when asked. */
export function inlineSource(groups: string[][]): BatchSource {
  let k = 0;
  return { next: () => groups[k++]!.map((dir) => readRunBatches(dir, { textAsBytes: true })), close: () => {} };
}

export interface WireBatch {
  batch: number;
  paths: RunBatch['paths'];
  tables: Record<RunTable, { length: number; cells: Record<string, CellsWire> }>;
  digests: LoadBatch['digests'];
}

/** What the worker posts per experiment. */
export type DecodeMessage = { copies: WireBatch[][] } | { error: WireError };


/** The slice the inserting thread waits in before it looks at the worker. */
const WAIT_SLICE_MS = 1_000;
/** A worker whose heartbeat has not moved for this long is taken as hung
 * (one batch decodes in milliseconds; the start takes ~0.1 s). */
export const STALL_MS = 60_000;

export interface DecodeJob { groups: string[][]; port: MessagePort; sync: SharedArrayBuffer }

export function toWire(b: LoadBatch): WireBatch {
  const tables = {} as WireBatch['tables'];
  for (const t of RUN_TABLES) {
    const cells: Record<string, CellsWire> = {};
    for (const [name, c] of Object.entries(b.tables[t].cells)) cells[name] = cellsToWire(c);
    tables[t] = { length: b.tables[t].length, cells };
  }
  return { batch: b.batch, paths: b.paths, tables, digests: b.digests };
}

function fromWire(w: WireBatch): LoadBatch {
  const tables = {} as LoadBatch['tables'];
  for (const t of RUN_TABLES) {
    const cells: Record<string, Cells> = {};
    for (const [name, c] of Object.entries(w.tables[t].cells)) cells[name] = cellsFromWire(c);
    tables[t] = { length: w.tables[t].length, cells };
  }
  const b: LoadBatch = { batch: w.batch, paths: w.paths, tables };
  if (w.digests) b.digests = w.digests;
  return b;
}

/** Decodes in a worker thread, one experiment ahead of `next()`. */
export function workerSource(groups: string[][], stallMs = STALL_MS, script = 'batch-decode-worker.js'): BatchSource {
  const sync = new SharedArrayBuffer(FLAGS * 4);
  const flags = new Int32Array(sync);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(path.resolve(__dirname, script), { workerData: { groups, port: port1, sync } satisfies DecodeJob, transferList: [port1] });
  worker.unref();
  // Errors arrive on the port; this keeps an 'error' event from throwing.
  worker.on('error', () => undefined);
  const stopped = (why: string): Error => new TceError('LOAD_WORKER', `the bulk load's decoding thread ${why}`, 'run `tce load` again; if it repeats, load with fewer run folders at once');
  let beat = Atomics.load(flags, HEARTBEAT);
  let beatAt = Date.now();
  const next = (): LoadBatch[][] => {
    for (;;) {
      const seen = Atomics.load(flags, POSTED);
      // Read before the port: the worker posts before it flags its end.
      const exited = Atomics.load(flags, EXITED);
      const got = receiveMessageOnPort(port2);
      if (got) {
        Atomics.add(flags, TAKEN, 1);
        Atomics.notify(flags, TAKEN);
        const m = got.message as DecodeMessage;
        if ('error' in m) throw errorFromWire(m.error);
        return m.copies.map((c) => c.map(fromWire));
      }
      if (exited) throw stopped('ended without posting the next experiment');
      if (Atomics.wait(flags, POSTED, seen, WAIT_SLICE_MS) !== 'timed-out') continue;
      // Nothing posted for a slice: the worker must still be moving.
      const now = Atomics.load(flags, HEARTBEAT);
      if (now !== beat) { beat = now; beatAt = Date.now(); continue; }
      if (Date.now() - beatAt >= stallMs) { void worker.terminate(); throw stopped(`made no progress for ${Math.round(stallMs / 1000)} s`); }
    }
  };
  const close = (): void => {
    Atomics.store(flags, CANCELLED, 1);
    Atomics.notify(flags, TAKEN);
    port2.close();
    void worker.terminate();
  };
  return { next, close };
}
