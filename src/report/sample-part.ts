// The per-sample JSONL written by two threads: the main thread and a
// worker (sample-jsonl-worker.ts) claim conditions from either end
// (sample-jsonl.ts SamplePartJob) and the worker's records follow the main
// thread's in the file: the same bytes as one thread writes. The worker can
// start before the analysis, from the experiment rows alone (`tce start`'s
// tail: analyze-and-report.ts), and so encode while the analysis reads. Its
// records wait in a spill file (an unlinked temporary, gone with its
// descriptor): ~100 MB of a default run held in memory were as many fresh
// pages, each a page fault (docs/performance.md, "The report's page faults").
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DB } from '../store/db';
import { ARM_IDENTITY_KEYS } from '../analysis/condition';
import { LineSink, writeAllSync } from '../util/line-sink';
import { baselineCorrectMap, type DiagnosedCondition } from './sample-diagnosis';
import { claim, writeConditionRecords, type FoundExamples, type SamplePartJob, type SamplePartMessage, type SampleToWorker } from './sample-jsonl';

/** The spill file's bytes go to the report through one buffer of this size. */
const COPY_BYTES = 1024 * 1024;

/** An unlinked temporary file open for reading and writing: in the
 * system's temporary folder (a node's local disk, where the experiment
 * folder may be a network file system), else beside the database. Should
 * its disk fill up, the worker fails and the main thread encodes the
 * worker's conditions itself (write()). */
function openSpill(dbFile: string): number {
  const errors: string[] = [];
  for (const dir of [os.tmpdir(), path.dirname(path.resolve(dbFile))]) {
    const file = path.join(dir, `tce-report-${process.pid}-${randomUUID()}.part`);
    try {
      const fd = fs.openSync(file, 'wx+', 0o600);
      fs.unlinkSync(file);
      return fd;
    } catch (e) {
      errors.push(`${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  throw new Error(`no folder for the report worker's spill file (${errors.join('; ')})`);
}

export class SamplePart {
  private readonly worker: Worker;
  private readonly taken: Int32Array;
  /** Open until the worker has exited and its bytes are copied (or dropped). */
  private spillFd: number | null;
  private failed: unknown = null;
  private got: SamplePartMessage | null = null;
  /** Settles once the worker has exited: its examples, or its error. */
  private readonly found: Promise<SamplePartMessage>;

  /** `conditions` with their problems when known (else each is taken as
   * none, and re-encoded by the worker if the analysis finds one). */
  constructor(dbFile: string, readonly conditions: readonly DiagnosedCondition[], readonly baselineId: string | null) {
    const taken = new SharedArrayBuffer(4 * Math.max(1, conditions.length));
    this.taken = new Int32Array(taken);
    const spillFd = openSpill(dbFile);
    this.spillFd = spillFd;
    try {
      this.worker = new Worker(path.join(__dirname, 'sample-jsonl-worker.js'), { workerData: { dbFile, baselineId, conditions: [...conditions], taken, spillFd } satisfies SamplePartJob });
    } catch (e) {
      this.closeSpill();
      throw e;
    }
    this.worker.on('message', (m: SamplePartMessage) => { this.got = m; });
    this.found = new Promise<SamplePartMessage>((resolve, reject) => {
      this.worker.once('error', (e) => this.fail(e));
      this.worker.once('exit', (code) => {
        // Never closed before this: the worker writes to it until it exits
        // (a closed number could be another file's by then).
        if (this.failed !== null || !this.got || code !== 0) this.closeSpill();
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

  /** This thread's conditions, then the worker's, to `fd`; the examples of both.
   * Where the worker failed (its spill file's disk full, say), this thread
   * encodes the worker's conditions too: the same bytes, later. */
  async write(db: DB, fd: number, conditions: readonly DiagnosedCondition[]): Promise<FoundExamples> {
    this.worker.postMessage({ problems: conditions.map((c) => c.problem ?? null) } satisfies SampleToWorker);
    const own: FoundExamples = new Map();
    let encode: (i: number) => void;
    let next = 0;
    try {
      const baseline = baselineCorrectMap(db, { baselineId: this.baselineId });
      const sink = new LineSink((bytes) => writeAllSync(fd, bytes));
      encode = (i) => writeConditionRecords(db, conditions[i]!, baseline, sink, own);
      for (; next < conditions.length && claim(this.taken, next); next++) encode(next);
    } catch (e) {
      // Never return (or throw) while the worker still writes its part.
      await this.stop();
      throw e;
    }
    const part = await this.found.catch(() => null);
    if (!part) {
      for (; next < conditions.length; next++) encode(next);
      return own;
    }
    try {
      this.copySpilled(fd, part.segments);
    } finally {
      this.closeSpill();
    }
    return new Map([...own, ...part.found]);
  }

  /** Ends the worker (nothing of its part is written) and waits for it to exit. */
  async stop(): Promise<void> {
    this.fail(new Error('the report worker was stopped'));
    await this.found.catch(() => undefined);
    this.closeSpill();
  }

  /** The worker's records, condition by condition in file order, after this thread's. */
  private copySpilled(fd: number, segments: ReadonlyArray<[number, number]>): void {
    const buf = Buffer.allocUnsafeSlow(COPY_BYTES);
    for (const [start, bytes] of segments) {
      for (let done = 0; done < bytes;) {
        const n = fs.readSync(this.spillFd!, buf, 0, Math.min(buf.length, bytes - done), start + done);
        if (n === 0) throw new Error(`the report worker's spill file ends at ${start + done} B, before its part does (${start + bytes} B)`);
        writeAllSync(fd, buf, 0, n);
        done += n;
      }
    }
  }

  private closeSpill(): void {
    if (this.spillFd === null) return;
    fs.closeSync(this.spillFd);
    this.spillFd = null;
  }

  private fail(e: unknown): void {
    if (this.failed === null) this.failed = e ?? new Error('the report worker failed');
    void this.worker.terminate();
  }
}
