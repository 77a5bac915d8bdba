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
import { EXAMPLE_KINDS, appendFile, conditionWeights, diagnosedFields, splitPoint, writeSampleRecords, type FoundExamples, type SamplePartJob } from './sample-jsonl';
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

/** Writes the three reports. The JSONL's second half of conditions is
 * written by a worker thread with its own connection while this thread
 * writes the first (on a default run ~10 s of one core otherwise), then
 * appended: the same bytes as one thread writes. An in-memory database
 * (--from-arrow), or `worker: false`, is written by this thread alone. */
export async function writeReports(db: DB, r: AnalysisResult, opts: { outDir: string; worker?: boolean }): Promise<{ files: string[] }> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const jsonl = path.join(opts.outDir, REPORT_FILES.samples);
  const conditions = r.conditions.map(diagnosedFields);
  const at = (opts.worker ?? true) && !db.memory && conditions.length >= 2 ? splitPoint(conditionWeights(db, conditions)) : conditions.length;
  const part = `${jsonl}.part2.tmp`;
  const found = await writeAtomically(jsonl, part, async (fd) => {
    if (at === conditions.length) return writeSampleRecords(db, conditions, r.baselineId, fd);
    const worker = runPartWorker({ dbFile: db.name, baselineId: r.baselineId, conditions: conditions.slice(at), file: part });
    let own: FoundExamples;
    try {
      own = writeSampleRecords(db, conditions.slice(0, at), r.baselineId, fd);
    } finally {
      // Never return (or throw) while the worker still writes its part.
      await worker.catch(() => null);
    }
    const theirs = await worker;
    appendFile(fd, part);
    return new Map([...own, ...theirs]);
  });
  return { files: [jsonl, ...writeSummaries(r, found, opts.outDir)] };
}

function runPartWorker(job: SamplePartJob): Promise<FoundExamples> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'sample-jsonl-worker.js'), { workerData: job });
    let got: FoundExamples | null = null;
    w.once('message', (m: Array<[string, SampleDiagnosis[]]>) => { got = new Map(m); });
    w.once('error', reject);
    w.once('exit', (code) => (got && code === 0 ? resolve(got) : reject(new Error(`the report worker stopped (exit code ${code}) before writing ${job.file}`))));
  });
}

/** A half-written report is worse than none: never leave a .tmp behind. */
async function writeAtomically<T>(file: string, part: string, write: (fd: number) => Promise<T>): Promise<T> {
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
  } finally {
    fs.rmSync(part, { force: true });
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
