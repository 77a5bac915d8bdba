// One worker thread per process commits the run writers' batches
// (run-write-worker.ts): the driver's main thread fills and checks the
// column buffers, which needs the row objects, and hands them over by
// transfer (no copy); compression and the file writes, most of a flush's
// CPU, leave the thread that sends the requests. Started on the first batch,
// holding the process open only while a commit is in flight. Killing the
// process kills the thread with it, so a batch not yet committed is lost
// exactly as before (run-writer.ts).
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { filledBuffers } from './arrow-columns';
import { RUN_TABLES } from './arrow-schema';
import type { BatchJob } from './batch-commit';
import { errorFromWire, type WireError } from '../util/thread-error';
import { ThreadCalls } from '../util/thread-calls';

export interface CommitRequest { id: number; job: BatchJob }
export type CommitReply =
  | { id: number; ok: true }
  | { id: number; ok: false; error: WireError };

class RunWriteThread {
  private readonly worker: Worker;
  private readonly calls: ThreadCalls<void>;

  constructor() {
    this.worker = new Worker(path.join(__dirname, 'run-write-worker.js'));
    this.calls = new ThreadCalls<void>(this.worker, (code) => `run writer thread exited (code ${code})`);
    this.worker.on('message', (m: CommitReply) => {
      this.calls.settle(m.id, m.ok ? undefined : errorFromWire(m.error));
      if (this.calls.waiting === 0) this.worker.unref();
    });
    // After the listeners (a 'message' listener refs the port again): an
    // idle thread must not hold the process open.
    this.worker.unref();
  }

  get dead(): boolean {
    return this.calls.failure !== null;
  }

  commit(job: BatchJob): Promise<void> {
    this.worker.ref();
    // Transferred, not copied: the column buffers are the batch's bulk
    // (packing them into one buffer first measured twice as costly).
    const done = this.calls.call((id) => this.worker.postMessage({ id, job } satisfies CommitRequest, RUN_TABLES.flatMap((t) => filledBuffers(job.tables[t]))));
    if (this.calls.waiting === 0) this.worker.unref();
    return done;
  }
}

let thread: RunWriteThread | null = null;

/** Writes a filled batch and its commit marker in the shared writer
 * thread; resolves once the marker is durable. The job's buffers are
 * transferred: unusable in this thread afterwards. */
export function commitInThread(job: BatchJob): Promise<void> {
  if (!thread || thread.dead) thread = new RunWriteThread();
  return thread.commit(job);
}
