// Worker thread: encodes the per-sample records of the conditions the main
// thread has not claimed, from the last one backwards (sample-jsonl.ts
// SamplePartJob), through its own read-only connection, into the spill file,
// and tells the main thread where each condition's bytes lie once it knows
// every condition's problem; the main thread copies them after its own
// (sample-part.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from '../store/db';
import { LineSink, writeAllSync } from '../util/line-sink';
import { baselineCorrectMap } from './sample-diagnosis';
import { claim, writeConditionRecords, type FoundExamples, type SamplePartJob, type SamplePartMessage, type SampleToWorker } from './sample-jsonl';

const job = workerData as SamplePartJob;
const taken = new Int32Array(job.taken);

const db = openDb(job.dbFile, { readonly: true });
const baseline = baselineCorrectMap(db, { baselineId: job.baselineId });
let spilled = 0;
const sink = new LineSink((bytes) => {
  // At its own offsets: the descriptor's position is shared with the main
  // thread. A full disk throws here and ends the worker with it.
  writeAllSync(job.spillFd, bytes, 0, bytes.length, spilled);
  spilled += bytes.length;
});
/** Per claimed condition (index), where its records lie in the spill file. */
const mine = new Map<number, [number, number]>();
const found: FoundExamples = new Map();
const encode = (i: number, problem: string | null): void => {
  const start = spilled;
  writeConditionRecords(db, { ...job.conditions[i]!, problem }, baseline, sink, found);
  mine.set(i, [start, spilled - start]);
};
for (let i = job.conditions.length - 1; i >= 0 && claim(taken, i); i--) encode(i, job.conditions[i]!.problem ?? null);

parentPort!.once('message', ({ problems }: SampleToWorker) => {
  try {
    const order = [...mine.keys()].sort((a, b) => a - b);
    for (const i of order) {
      if (problems[i] === (job.conditions[i]!.problem ?? null)) continue;
      // Encoded before the analysis had judged the condition (it failed or
      // is incomplete): its records say so, so they are encoded again (at
      // the spill file's end; the first encoding is skipped).
      for (const [key, l] of found) if (key.startsWith(`${job.conditions[i]!.label}\u0000`)) found.delete(key);
      encode(i, problems[i]!);
    }
    parentPort!.postMessage({ segments: order.map((i) => mine.get(i)!), found: [...found] } satisfies SamplePartMessage);
  } finally {
    db.close();
  }
});
