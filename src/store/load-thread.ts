// The suite's bulk load beside the run (issue 16): a worker thread with
// its own connection loads each batch a run writer commits while later
// samples and experiments still run (stream-load.ts has the rules and the
// transactions). Requests are posted without waiting; only the phase's
// end and the load's end are awaited. A failed load is sticky: the thread
// rolls back and every later wait rejects with its error; a thread that
// dies rejects them too, so the suite never hangs on it.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadResult } from './bulk-load';
import { errorFromWire, type WireError } from '../util/thread-error';
import { ThreadCalls } from '../util/thread-calls';

export type LoadRequest = { reply?: number } & (
  | { op: 'begin' }
  | { op: 'open'; id: string; dir: string; fresh: boolean }
  | { op: 'batch'; id: string; batch: number }
  | { op: 'finish'; id: string }
  | { op: 'commit' }
  | { op: 'decision'; kind: string; decision: string; details: string }
  | { op: 'end' }
  | { op: 'abort' }
);

export type LoadReply =
  | { log: string }
  | { failed: WireError }
  | { reply: number; ok: true; result: unknown }
  | { reply: number; ok: false; error: WireError };

/** How long an abort waits for the thread to roll back and close before
 * it is terminated. */
const ABORT_WAIT_MS = 10_000;

export class LoadThread {
  private readonly worker: Worker;
  private readonly calls: ThreadCalls<unknown>;
  private readonly exited: Promise<void>;

  /** `onFailure`: called once, at the first error (the suite stops early). */
  constructor(readonly dbFile: string, log: (line: string) => void, onFailure: (e: Error) => void = () => {}) {
    this.worker = new Worker(path.join(__dirname, 'load-worker.js'), { workerData: { file: dbFile } });
    this.calls = new ThreadCalls<unknown>(this.worker, (code) => `the load thread of ${dbFile} stopped (exit code ${code})`, onFailure);
    this.worker.on('message', (m: LoadReply) => {
      if ('log' in m) return log(m.log);
      if ('failed' in m) return this.calls.fail(errorFromWire(m.failed));
      this.calls.settle(m.reply, m.ok ? m.result : errorFromWire(m.error));
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Posts a request; the thread applies them in order. */
  post(m: LoadRequest): void {
    if (!this.calls.failure) this.worker.postMessage(m);
  }

  /** Posts a request and waits for the thread to have applied it. */
  request<T>(m: LoadRequest): Promise<T> {
    return this.calls.call((reply) => this.worker.postMessage({ ...m, reply })) as Promise<T>;
  }

  /** Waits for every request so far, then returns the totals. The thread ends. */
  async end(): Promise<LoadResult> {
    const r = await this.request<LoadResult>({ op: 'end' });
    await this.exited;
    return r;
  }

  /** Rolls the open phase back and ends the thread (terminated if it does
   * not end in time). */
  async abort(): Promise<void> {
    if (!this.calls.failure) this.worker.postMessage({ op: 'abort' } satisfies LoadRequest);
    const timer = setTimeout(() => void this.worker.terminate(), ABORT_WAIT_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
