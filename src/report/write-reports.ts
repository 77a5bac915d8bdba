// `tce report`: the JSONL per-sample data, the insights Markdown and the
// HTML page, from one pass over the samples (two threads share it).
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db';
import { writeDurableSync, writeError } from '../store/durable-file';
import type { AnalysisResult } from '../analysis/types';
import { ALL_TOOLS, CONFUSION_ONLY, ORACLE, PRIOR_ONLY, STAGED, conditionLabel } from '../protocol/conditions';
import { Worker } from 'node:worker_threads';
import type { SampleDiagnosis } from './sample-diagnosis';
import { EXAMPLE_KINDS, conditionWeights, diagnosedFields, splitPoint, writeSampleRecords, type FoundExamples, type SamplePartJob, type SamplePartMessage } from './sample-jsonl';
import { insightsMarkdown, type Examples } from './insights-md';
import { htmlReport } from './html-report';

export { summaryTable } from './summary-table';

export const REPORT_FILES = {
  samples: 'sample_report_data.json',
  insights: 'TOOL_CALLING_INSIGHTS_REPORT.md',
  html: 'report.html',
} as const;

// Examples come from the richest real-tool conditions first.
const EXAMPLE_PREFERENCE = ([
  [ALL_TOOLS, '8b'], [ALL_TOOLS, '2b'], [PRIOR_ONLY, '8b'], [CONFUSION_ONLY, '8b'], [PRIOR_ONLY, '2b'], [CONFUSION_ONLY, '2b'],
  [STAGED, '8b'], [STAGED, '2b'], [ORACLE, '8b'], [ORACLE, '2b'],
] as const).map(([name, size]) => conditionLabel(name, size));

/** Below this many rows (predictions and tool calls of the conditions)
 * the JSONL is written by this thread alone: ~0.1 s of writing, about what
 * starting the worker thread costs (a node environment, SQLite and the
 * report modules of its own). */
export const REPORT_WORKER_MIN_ROWS = 5000;

/** Writes the three reports. The JSONL's second half of conditions is
 * encoded by a worker thread with its own connection while this thread
 * writes the first (on a default run ~10 s of one core otherwise); its
 * chunks are written after this thread's: the same bytes as one thread
 * writes. An in-memory database (--from-arrow), a small run
 * (REPORT_WORKER_MIN_ROWS) or `worker: false` is written by this thread
 * alone; `worker: true` splits any file-backed run. */
export async function writeReports(db: DB, r: AnalysisResult, opts: { outDir: string; worker?: boolean }): Promise<{ files: string[] }> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const jsonl = path.join(opts.outDir, REPORT_FILES.samples);
  const conditions = r.conditions.map(diagnosedFields);
  const weights = opts.worker !== false && !db.memory && conditions.length >= 2 ? conditionWeights(db, conditions) : null;
  const split = weights !== null && (opts.worker === true || weights.reduce((a, b) => a + b, 0) >= REPORT_WORKER_MIN_ROWS);
  const at = split ? splitPoint(weights) : conditions.length;
  const found = await writeAtomically(jsonl, async (fd) => {
    const write = (lines: string): void => { fs.writeSync(fd, lines); };
    if (at === conditions.length) return writeSampleRecords(db, conditions, r.baselineId, write);
    const worker = runPartWorker({ dbFile: db.name, baselineId: r.baselineId, conditions: conditions.slice(at) }, fd);
    let own: FoundExamples;
    try {
      own = writeSampleRecords(db, conditions.slice(0, at), r.baselineId, write);
    } catch (e) {
      // Never return (or throw) while the worker still sends its part.
      worker.stop();
      await worker.found.catch(() => null);
      throw e;
    }
    worker.append();
    return new Map([...own, ...(await worker.found)]);
  });
  return { files: [jsonl, ...writeSummaries(r, found, opts.outDir)] };
}

/** The worker's chunks are held until append(), then written to `fd` as
 * they come; `found` settles once the worker has exited (rejects on its
 * error, a failed write or stop()). */
function runPartWorker(job: SamplePartJob, fd: number): { append(): void; stop(): void; found: Promise<FoundExamples> } {
  const w = new Worker(path.join(__dirname, 'sample-jsonl-worker.js'), { workerData: job });
  const held: Uint8Array[] = [];
  let appending = false;
  let failed: unknown = null;
  let got: FoundExamples | null = null;
  const fail = (e: unknown): void => {
    if (failed === null) failed = e ?? new Error('the report worker failed');
    held.length = 0;
    void w.terminate();
  };
  const write = (chunk: Uint8Array): void => {
    try {
      fs.writeSync(fd, chunk);
    } catch (e) {
      fail(e);
    }
  };
  w.on('message', (m: SamplePartMessage) => {
    if (failed !== null) return;
    if ('found' in m) got = new Map(m.found);
    else if (appending) write(m.chunk);
    else held.push(m.chunk);
  });
  const found = new Promise<FoundExamples>((resolve, reject) => {
    w.once('error', fail);
    w.once('exit', (code) => {
      if (failed !== null) reject(failed);
      else if (got && code === 0) resolve(got);
      else reject(new Error(`the report worker stopped (exit code ${code}) before sending its part`));
    });
  });
  return {
    append(): void {
      appending = true;
      for (const c of held.splice(0)) if (failed === null) write(c);
    },
    stop(): void { fail(new Error('stopped')); },
    found,
  };
}

/** A half-written report is worse than none: never leave a .tmp behind. */
async function writeAtomically<T>(file: string, write: (fd: number) => Promise<T>): Promise<T> {
  const tmp = `${file}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    let out: T;
    try {
      out = await write(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return out;
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e);
  }
}

/** The insights Markdown and the HTML page, with the examples found. */
function writeSummaries(r: AnalysisResult, found: FoundExamples, outDir: string): string[] {
  const order = [...EXAMPLE_PREFERENCE, ...r.conditions.map((c) => c.label)];
  const examples = Object.fromEntries(EXAMPLE_KINDS.map((k) => {
    const l = order.map((label) => found.get(`${label}\u0000${k}`) ?? []).find((x) => x.length > 0) ?? [];
    return [k, l];
  })) as Examples;
  const md = path.join(outDir, REPORT_FILES.insights);
  writeDurableSync(md, insightsMarkdown(r, examples));
  const html = path.join(outDir, REPORT_FILES.html);
  writeDurableSync(html, htmlReport(r, examples));
  return [md, html];
}
