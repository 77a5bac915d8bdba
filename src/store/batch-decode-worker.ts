// Worker thread of the bulk load (batch-source.ts): reads and decodes each
// experiment's run batches and hashes their long texts, at most one
// experiment ahead of the thread that inserts them.
import { workerData } from 'node:worker_threads';
import { RUN_TABLES, type RunTable } from './arrow-schema';
import { readRunBatches } from './run-reader';
import { PREDICTIONS, TOOL_CALLS, TURNS, internedColumns, type TableDecl } from './tables';
import { isLongText, textDigest } from './texts';
import { CANCELLED, DIGEST_CHARS, HEARTBEAT, flagExitOnEnd, POSTED, TAKEN, toWire, type DecodeJob, type DecodeMessage, type LoadBatch, type WireBatch } from './batch-source';
import { errorToWire } from '../util/thread-error';

const DECLS: Record<RunTable, TableDecl> = { predictions: PREDICTIONS, turns: TURNS, tool_calls: TOOL_CALLS };
const BLANK = ' '.repeat(DIGEST_CHARS);

const job = workerData as DecodeJob;
const flags = new Int32Array(job.sync);
flagExitOnEnd(job.sync);
const beat = (): void => { Atomics.add(flags, HEARTBEAT, 1); };
beat();

function digestsOf(b: LoadBatch): NonNullable<LoadBatch['digests']> {
  const out: NonNullable<LoadBatch['digests']> = {};
  for (const t of RUN_TABLES) {
    const cols: Record<string, string> = {};
    for (const name of internedColumns(DECLS[t])) {
      const cells = b.tables[t].cells[name];
      if (!cells) continue;
      const parts = new Array<string>(cells.length);
      for (let i = 0; i < cells.length; i++) {
        const v = cells.at(i);
        parts[i] = isLongText(v) ? textDigest(v) : BLANK;
      }
      cols[name] = parts.join('');
    }
    out[t] = cols;
  }
  return out;
}

/** The ArrayBuffers to move rather than copy: a Buffer-pool slab (at most
 * Buffer.poolSize bytes) may hold other live Buffers, so those are copied. */
function transferables(copies: WireBatch[][]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView | null): void => {
    if (a && a.buffer instanceof ArrayBuffer && a.buffer.byteLength > Buffer.poolSize) seen.add(a.buffer);
  };
  for (const c of copies) for (const b of c) for (const t of RUN_TABLES) for (const w of Object.values(b.tables[t].cells)) {
    if (w.kind === 'list') continue;
    add(w.v.bitmap);
    if (w.kind === 'var') { add(w.vals); add(w.offs); } else add(w.values);
  }
  return [...seen];
}

function post(m: DecodeMessage, transfer: ArrayBuffer[] = []): void {
  job.port.postMessage(m, transfer);
  Atomics.add(flags, POSTED, 1);
  Atomics.notify(flags, POSTED);
}

/** Waits until the inserting thread has taken `n` experiments (or gave up). */
function waitTaken(n: number): void {
  for (let taken; (taken = Atomics.load(flags, TAKEN)) < n && !Atomics.load(flags, CANCELLED);) Atomics.wait(flags, TAKEN, taken);
}

let posted = 0;
try {
  for (let k = 0; k < job.groups.length; k++) {
    // Experiment k once the inserting thread has taken experiment k-1.
    waitTaken(k);
    if (Atomics.load(flags, CANCELLED)) break;
    const copies = job.groups[k]!.map((dir) => readRunBatches(dir, { textAsBytes: true }, beat).map((b) => {
      const w = toWire({ ...b, digests: digestsOf(b) });
      beat();
      return w;
    }));
    post({ copies }, transferables(copies));
    posted++;
  }
} catch (e) {
  post({ error: errorToWire(e) });
  posted++;
}
// The port closes when this thread ends: not before the last message is taken.
waitTaken(posted);
