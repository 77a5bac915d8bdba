// The condition sample lists, built in a worker thread (list-worker.ts) and
// kept while their fingerprint (view-store.ts) holds. At start every
// condition is queued, so lists are usually ready before the first click;
// filtering, sorting and paging then work on the cached list in memory.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Experiment, ListRow, ViewStore } from './view-store';

type Built = { id: string; fingerprint: string; rows: ListRow[] } | { id: string; error: string };

/** fingerprint null: still being built. checkedAt: the data_version at
 * which the fingerprint was last found current. */
interface Entry { fingerprint: string | null; checkedAt: number; rows: Promise<ListRow[]> }

export class ListCache {
  private entries = new Map<string, Entry>();
  private waiting = new Map<string, Array<(b: Built) => void>>();
  private worker: Worker | null = null;
  /** Ids waiting for the worker, one sent at a time so a page's request
   * can jump ahead of the prewarm queue. */
  private queue: string[] = [];
  private busy = false;

  constructor(private readonly store: ViewStore, opts: { worker?: boolean } = {}) {
    if (opts.worker ?? true) {
      this.worker = new Worker(path.join(__dirname, 'list-worker.js'), { workerData: { file: store.db.name } });
      this.worker.on('message', (b: Built) => {
        const ws = this.waiting.get(b.id) ?? [];
        this.waiting.delete(b.id);
        this.busy = false;
        for (const w of ws) w(b);
        this.pump();
      });
      // A failed worker is not fatal: lists are then built on this thread.
      this.worker.on('error', (e) => { process.stderr.write(`tce view: list worker failed (${e.message}); building lists inline\n`); this.stopWorker(); });
      this.worker.unref();
    }
  }

  private pump(): void {
    const w = this.worker;
    if (!w || this.busy || this.queue.length === 0) return;
    const id = this.queue.shift()!;
    this.busy = true;
    w.postMessage(id);
  }

  private promote(id: string): void {
    const at = this.queue.indexOf(id);
    if (at > 0) this.queue.unshift(...this.queue.splice(at, 1));
  }

  private build(e: Experiment, urgent: boolean): Promise<Built> {
    if (!this.worker) {
      try { return Promise.resolve({ id: e.experiment_id, ...this.store.buildList(e) }); } catch (err) { return Promise.reject(err); }
    }
    return new Promise((resolve) => {
      const id = e.experiment_id;
      const ws = this.waiting.get(id);
      if (ws) ws.push(resolve);
      else this.waiting.set(id, [resolve]);
      if (!this.queue.includes(id)) this.queue.push(id);
      if (urgent) this.promote(id);
      this.pump();
    });
  }

  /** The current list of `e`: cached unless the database changed under it. */
  get(e: Experiment, urgent = true): Promise<ListRow[]> {
    const v = this.store.dataVersion();
    const hit = this.entries.get(e.experiment_id);
    if (hit && hit.fingerprint === null) {
      if (urgent) this.promote(e.experiment_id);
      return hit.rows;
    }
    if (hit && hit.checkedAt === v) return hit.rows;
    if (hit && this.store.fingerprint(e) === hit.fingerprint) {
      hit.checkedAt = v;
      return hit.rows;
    }
    const entry: Entry = { fingerprint: null, checkedAt: v, rows: Promise.resolve([]) };
    entry.rows = this.build(e, urgent).then((b) => {
      if ('error' in b) throw new Error(b.error);
      entry.fingerprint = b.fingerprint;
      return b.rows;
    });
    entry.rows.catch(() => { if (this.entries.get(e.experiment_id) === entry) this.entries.delete(e.experiment_id); });
    this.entries.set(e.experiment_id, entry);
    return entry.rows;
  }

  /** Queues every condition's list (the worker builds them one by one). */
  prewarm(): void {
    for (const e of this.store.conditions()) this.get(e, false).catch(() => {});
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
    for (const [id, ws] of this.waiting) for (const r of ws) r({ id, error: 'list worker stopped' });
    this.waiting.clear();
    this.queue = [];
  }

  close(): Promise<void> {
    this.stopWorker();
    return Promise.resolve();
  }
}
