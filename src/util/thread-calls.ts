// Calls to a worker thread answered by id, as the run writer's thread, the
// simulator's and the suite's load thread each make them: the calls waiting
// for a reply, and one failure (the thread's first error, or its exit) that
// rejects every call waiting then and every call made after it.
import type { Worker } from 'node:worker_threads';

interface Pending<R> { resolve(r: R): void; reject(e: Error): void }

export class ThreadCalls<R> {
  private readonly pending = new Map<number, Pending<R>>();
  private nextId = 1;
  private failed: Error | null = null;

  /** `onFailure`: called once, with the first failure. */
  constructor(worker: Worker, exitMessage: (code: number) => string, private readonly onFailure: (e: Error) => void = () => {}) {
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(exitMessage(code))));
  }

  /** The thread's first error or exit; null while it works. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Calls waiting for their reply. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Makes a call: `send` posts it under `id`; the reply settles the
   * promise. A `send` that throws rejects it and leaves nothing waiting. */
  call(send: (id: number) => void): Promise<R> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        send(id);
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  /** The reply to call `id`: an Error rejects it. An unknown id is ignored. */
  settle(id: number, reply: R | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (reply instanceof Error) p.reject(reply);
    else p.resolve(reply);
  }

  fail(e: Error): void {
    if (!this.failed) {
      this.failed = e;
      this.onFailure(e);
    }
    for (const p of this.pending.values()) p.reject(this.failed);
    this.pending.clear();
  }
}
