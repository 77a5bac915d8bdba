// Worker thread: writes the per-sample records of the second half of the
// conditions to its own file through its own read-only connection, while
// the main thread writes the first half (write-reports.ts joins them).
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db';
import { writeSampleRecords, type SamplePartJob } from './sample-jsonl';

const job = workerData as SamplePartJob;
const db = openDb(job.dbFile, { readonly: true });
try {
  const fd = fs.openSync(job.file, 'w');
  try {
    parentPort!.postMessage([...writeSampleRecords(db, job.conditions, job.baselineId, fd)]);
  } finally {
    fs.closeSync(fd);
  }
} finally {
  db.close();
}
