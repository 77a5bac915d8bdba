// The VACUUM after a big bulk load (bulk-load.ts, `vacuum: 'defer'`), on its
// own connection in a worker thread: `start` runs it beside the analysis,
// whose first seconds (reading every experiment) use one core. In WAL mode
// the VACUUM is one write transaction: readers keep reading the rows as
// loaded, and a reader's writes wait for it (the caller awaits it first).
// A small database is VACUUMed in the calling thread instead: there it
// takes a few ms (14 ms for the 0.9 MB of a 24-sample run of every
// condition), where starting the worker thread costs ~0.1 s of CPU (a node
// environment and SQLite of its own), which every small run paid.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { openDb } from './db';

/** Up to this size (the file and its WAL) the VACUUM runs in this thread. */
export const INLINE_VACUUM_MAX_BYTES = 4 << 20;

/** VACUUMs `file` on a connection of its own, then closes it. */
export function vacuumHere(file: string): void {
  const db = openDb(file);
  try {
    db.exec('VACUUM');
  } finally {
    db.close();
  }
}

export function vacuumInWorker(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'vacuum-worker.js'), { workerData: { file } });
    let failed: Error | null = null;
    w.once('error', (e) => { failed = e; });
    w.once('exit', (code) => (failed ? reject(failed) : code === 0 ? resolve() : reject(new Error(`the VACUUM of ${file} stopped (exit code ${code})`))));
  });
}

const bytes = (f: string): number => fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;

/** The VACUUM a load left: in this thread for a small database (done when
 * this returns), else in a worker thread. */
export function vacuumDb(file: string): Promise<void> {
  if (bytes(file) + bytes(`${file}-wal`) > INLINE_VACUUM_MAX_BYTES) return vacuumInWorker(file);
  try {
    vacuumHere(file);
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e as Error);
  }
}
