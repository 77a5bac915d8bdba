// The VACUUM after a big bulk load (bulk-load.ts, `vacuum: 'defer'`), on its
// own connection in a worker thread: `start` runs it beside the analysis,
// whose first seconds (reading every experiment) use one core. In WAL mode
// the VACUUM is one write transaction: readers keep reading the rows as
// loaded, and a reader's writes wait for it (the caller awaits it first).
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export function vacuumInWorker(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'vacuum-worker.js'), { workerData: { file } });
    let failed: Error | null = null;
    w.once('error', (e) => { failed = e; });
    w.once('exit', (code) => (failed ? reject(failed) : code === 0 ? resolve() : reject(new Error(`the VACUUM of ${file} stopped (exit code ${code})`))));
  });
}
