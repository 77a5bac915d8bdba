// `tce report`: the JSONL per-sample data, the insights Markdown and the
// HTML page, from one pass over the samples (two threads share it).
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db';
import type { DiagnosedCondition } from './sample-diagnosis';
import { writeDurableSync, writeError } from '../store/durable-file';
import type { AnalysisResult } from '../analysis/types';
import { ALL_TOOLS, CONFUSION_ONLY, ORACLE, PRIOR_ONLY, STAGED, conditionLabel } from '../protocol/conditions';
import { EXAMPLE_KINDS, diagnosedFields, jsonlRows, writeSampleRecords, type FoundExamples } from './sample-jsonl';
import { SamplePart } from './sample-part';
import { writeAllSync } from '../util/line-sink';

export { SamplePart } from './sample-part';
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

/** Whether the sample JSONL is big enough for its worker thread to pay. */
export function reportWorkerPays(db: DB, conditions: readonly DiagnosedCondition[]): boolean {
  return conditions.length >= 2 && jsonlRows(db, conditions) >= REPORT_WORKER_MIN_ROWS;
}

/** Writes the three reports. The JSONL's conditions are shared between
 * this thread and a worker with its own connection (sample-part.ts; on a
 * default run ~10 s of one core otherwise), the worker's records after
 * this thread's: the same bytes as one thread writes. `part`: a worker
 * started before the analysis (analyze-and-report.ts), used when it was
 * started for these conditions, else stopped. An in-memory database
 * (--from-arrow), a small run (REPORT_WORKER_MIN_ROWS) or `worker: false`
 * is written by this thread alone; `worker: true` splits any file-backed run. */
export async function writeReports(db: DB, r: AnalysisResult, opts: { outDir: string; worker?: boolean; part?: SamplePart | null }): Promise<{ files: string[] }> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const jsonl = path.join(opts.outDir, REPORT_FILES.samples);
  const conditions = r.conditions.map(diagnosedFields);
  let part = opts.part ?? null;
  if (part && !part.matches(conditions, r.baselineId)) {
    await part.stop();
    part = null;
  }
  const split = part !== null || (opts.worker !== false && !db.memory && (opts.worker === true ? conditions.length >= 2 : reportWorkerPays(db, conditions)));
  const found = await writeAtomically(jsonl, async (fd) => {
    if (!split) return writeSampleRecords(db, conditions, r.baselineId, (bytes) => writeAllSync(fd, bytes));
    return (part ?? new SamplePart(db.name, conditions, r.baselineId)).write(db, fd, conditions);
  });
  return { files: [jsonl, ...writeSummaries(r, found, opts.outDir)] };
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
