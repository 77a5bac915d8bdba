// The per-sample JSONL written by two threads: the main thread and a
// worker (sample-jsonl-worker.ts) claim conditions from either end
// (sample-jsonl.ts SamplePartJob) and the worker's records follow the main
// thread's in the file: the same bytes as one thread writes. The worker can
// start before the analysis, from the experiment rows alone (`tce start`'s
// tail: analyze-and-report.ts), and so encode while the analysis reads.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DB } from '../store/db';
import { ARM_IDENTITY_KEYS } from '../analysis/condition';
import { baselineCorrectMap, type DiagnosedCondition } from './sample-diagnosis';
import { claim, writeConditionRecords, type FoundExamples, type SamplePartJob, type SamplePartMessage, type SampleToWorker } from './sample-jsonl';

export class SamplePart {
  private readonly worker: Worker;
  private readonly taken: Int32Array;
  private readonly held: Uint8Array[] = [];
  private fd: number | null = null;
  private failed: unknown = null;
  private got: FoundExamples | null = null;
  /** Settles once the worker has exited: its examples, or its error. */
  private readonly found: Promise<FoundExamples>;

  /** `conditions` with their problems when known (else each is taken as
   * none, and re-encoded by the worker if the analysis finds one). */
  constructor(dbFile: string, readonly conditions: readonly DiagnosedCondition[], readonly baselineId: string | null) {
    const taken = new SharedArrayBuffer(4 * Math.max(1, conditions.length));
    this.taken = new Int32Array(taken);
    this.worker = new Worker(path.join(__dirname, 'sample-jsonl-worker.js'), { workerData: { dbFile, baselineId, conditions: [...conditions], taken } satisfies SamplePartJob });
    this.worker.on('message', (m: SamplePartMessage) => {
      if (this.failed !== null) return;
      if ('found' in m) this.got = new Map(m.found);
      else if (this.fd === null) this.held.push(m.chunk);
      else this.writeChunk(m.chunk);
    });
    this.found = new Promise<FoundExamples>((resolve, reject) => {
      this.worker.once('error', (e) => this.fail(e));
      this.worker.once('exit', (code) => {
        if (this.failed !== null) reject(this.failed);
        else if (this.got && code === 0) resolve(this.got);
        else reject(new Error(`the report worker stopped (exit code ${code}) before sending its part`));
      });
    });
    // Awaited in write() or stop(); an early failure is not "unhandled".
    this.found.catch(() => undefined);
  }

  /** Whether this part was started for exactly these conditions (in this
   * order) and baseline: else what it encoded belongs to another report. */
  matches(conditions: readonly DiagnosedCondition[], baselineId: string | null): boolean {
    return baselineId === this.baselineId && conditions.length === this.conditions.length
      && conditions.every((c, i) => ARM_IDENTITY_KEYS.every((k) => c[k] === this.conditions[i]![k]));
  }

  /** Whether either thread has claimed condition i (the worker claims from the last). */
  claimed(i: number): boolean {
    return Atomics.load(this.taken, i) !== 0;
  }

  /** This thread's conditions, then the worker's, to `fd`; the examples of both. */
  async write(db: DB, fd: number, conditions: readonly DiagnosedCondition[]): Promise<FoundExamples> {
    this.worker.postMessage({ problems: conditions.map((c) => c.problem ?? null) } satisfies SampleToWorker);
    const own: FoundExamples = new Map();
    try {
      const baseline = baselineCorrectMap(db, { baselineId: this.baselineId });
      const write = (lines: string): void => { fs.writeSync(fd, lines); };
      for (let i = 0; i < conditions.length && claim(this.taken, i); i++) writeConditionRecords(db, conditions[i]!, baseline, write, own);
    } catch (e) {
      // Never return (or throw) while the worker still sends its part.
      await this.stop();
      throw e;
    }
    this.fd = fd;
    for (const c of this.held.splice(0)) this.writeChunk(c);
    return new Map([...own, ...(await this.found)]);
  }

  /** Ends the worker (nothing of its part is written) and waits for it to exit. */
  async stop(): Promise<void> {
    this.fail(new Error('the report worker was stopped'));
    await this.found.catch(() => undefined);
  }

  private writeChunk(chunk: Uint8Array): void {
    if (this.failed !== null) return;
    try {
      fs.writeSync(this.fd!, chunk);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (this.failed === null) this.failed = e ?? new Error('the report worker failed');
    this.held.length = 0;
    void this.worker.terminate();
  }
}
