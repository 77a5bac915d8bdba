// Worker thread: encodes the per-sample records of the second half of the
// conditions through its own read-only connection while the main thread
// writes the first half, and moves each chunk's bytes to the main thread,
// which writes them after its own (write-reports.ts). Chunks rather than a
// file of its own: the file was read back and appended (~117 MB read and
// written twice on a default run, the last step of the report).
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db';
import { writeSampleRecords, type SamplePartJob, type SamplePartMessage } from './sample-jsonl';

const job = workerData as SamplePartJob;
const db = openDb(job.dbFile, { readonly: true });
const utf8 = new TextEncoder();
try {
  const found = writeSampleRecords(db, job.conditions, job.baselineId, (lines) => {
    // encode() gives an ArrayBuffer of its own (never a pooled slab), so it can be moved.
    const chunk = utf8.encode(lines);
    parentPort!.postMessage({ chunk } satisfies SamplePartMessage, [chunk.buffer]);
  });
  parentPort!.postMessage({ found: [...found] } satisfies SamplePartMessage);
} finally {
  db.close();
}
