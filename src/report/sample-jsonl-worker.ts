// Worker thread: encodes the per-sample records of the conditions the main
// thread has not claimed, from the last one backwards (sample-jsonl.ts
// SamplePartJob), through its own read-only connection, and moves their
// bytes to the main thread in file order once it knows every condition's
// problem; the main thread writes them after its own (write-reports.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db';
import { baselineCorrectMap } from './sample-diagnosis';
import { claim, writeConditionRecords, type FoundExamples, type SamplePartJob, type SamplePartMessage, type SampleToWorker } from './sample-jsonl';

const job = workerData as SamplePartJob;
const taken = new Int32Array(job.taken);

const db = openDb(job.dbFile, { readonly: true });
const utf8 = new TextEncoder();
const baseline = baselineCorrectMap(db, { baselineId: job.baselineId });
/** Per claimed condition (index), its records as UTF-8 chunks: held as
 * bytes, outside the heap the collector walks (~100 MB on a default run). */
const mine = new Map<number, Uint8Array[]>();
const found: FoundExamples = new Map();
const encode = (i: number, problem: string | null): void => {
  const chunks: Uint8Array[] = [];
  // encode() gives an ArrayBuffer of its own (never a pooled slab), so it can be moved.
  writeConditionRecords(db, { ...job.conditions[i]!, problem }, baseline, (lines) => chunks.push(utf8.encode(lines)), found);
  mine.set(i, chunks);
};
for (let i = job.conditions.length - 1; i >= 0 && claim(taken, i); i--) encode(i, job.conditions[i]!.problem ?? null);

parentPort!.once('message', ({ problems }: SampleToWorker) => {
  try {
    const order = [...mine.keys()].sort((a, b) => a - b);
    for (const i of order) {
      if (problems[i] === (job.conditions[i]!.problem ?? null)) continue;
      // Encoded before the analysis had judged the condition (it failed or
      // is incomplete): its records say so, so they are encoded again.
      for (const [key, l] of found) if (key.startsWith(`${job.conditions[i]!.label}\u0000`)) found.delete(key);
      encode(i, problems[i]!);
    }
    for (const i of order) {
      for (const chunk of mine.get(i)!) parentPort!.postMessage({ chunk } satisfies SamplePartMessage, [chunk.buffer as ArrayBuffer]);
      mine.delete(i);
    }
    parentPort!.postMessage({ found: [...found] } satisfies SamplePartMessage);
  } finally {
    db.close();
  }
});
