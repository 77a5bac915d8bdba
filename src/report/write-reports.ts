// `tce report`: the JSONL per-sample data, the insights Markdown and the
// HTML page, from one pass over the samples.
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db';
import { writeDurableSync, writeError } from '../store/durable-file';
import type { AnalysisResult } from '../analysis/types';
import { ALL_TOOLS, CONFUSION_ONLY, ORACLE, PRIOR_ONLY, STAGED, conditionLabel } from '../protocol/conditions';
import { baselineCorrectMap, diagnoseCondition, type SampleDiagnosis } from './sample-diagnosis';
import { insightsMarkdown, type Examples } from './insights-md';
import { htmlReport } from './html-report';

export { summaryTable } from './summary-table';

export const REPORT_FILES = {
  samples: 'sample_report_data.json',
  insights: 'TOOL_CALLING_INSIGHTS_REPORT.md',
  html: 'report.html',
} as const;

const EXAMPLES_PER_KIND = 3;
// Examples come from the richest real-tool conditions first.
const EXAMPLE_PREFERENCE = ([
  [ALL_TOOLS, '8b'], [ALL_TOOLS, '2b'], [PRIOR_ONLY, '8b'], [CONFUSION_ONLY, '8b'], [PRIOR_ONLY, '2b'], [CONFUSION_ONLY, '2b'],
  [STAGED, '8b'], [STAGED, '2b'], [ORACLE, '8b'], [ORACLE, '2b'],
] as const).map(([name, size]) => conditionLabel(name, size));

export function writeReports(db: DB, r: AnalysisResult, opts: { outDir: string }): { files: string[] } {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const baseline = baselineCorrectMap(db, r);
  const kinds = ['tool_saved', 'tool_broke', 'ignored_tool_warning'] as const;
  const found = new Map<string, SampleDiagnosis[]>();
  const jsonl = path.join(opts.outDir, REPORT_FILES.samples);
  const tmp = `${jsonl}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      let buf: string[] = [];
      for (const c of r.conditions) {
        for (const d of diagnoseCondition(db, c, baseline)) {
          buf.push(JSON.stringify(d));
          if (buf.length >= 2000) { fs.writeSync(fd, buf.join('\n') + '\n'); buf = []; }
          for (const k of kinds) {
            if (!d.tags.includes(k)) continue;
            const key = `${c.label}\u0000${k}`;
            const l = found.get(key) ?? [];
            if (l.length < EXAMPLES_PER_KIND) { l.push(d); found.set(key, l); }
          }
        }
      }
      if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, jsonl);
  } catch (e) {
    // A half-written report is worse than none: never leave the .tmp behind.
    fs.rmSync(tmp, { force: true });
    throw writeError(jsonl, e);
  }
  const order = [...EXAMPLE_PREFERENCE, ...r.conditions.map((c) => c.label)];
  const examples = Object.fromEntries(kinds.map((k) => {
    const l = order.map((label) => found.get(`${label}\u0000${k}`) ?? []).find((x) => x.length > 0) ?? [];
    return [k, l];
  })) as Examples;
  const md = path.join(opts.outDir, REPORT_FILES.insights);
  writeDurableSync(md, insightsMarkdown(r, examples));
  const html = path.join(opts.outDir, REPORT_FILES.html);
  writeDurableSync(html, htmlReport(r, examples));
  return { files: [jsonl, md, html] };
}
