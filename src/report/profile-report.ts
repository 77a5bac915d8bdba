// `tce profile`: spec 004's latency report per condition: p10 p25 p40 p50
// p95 p99, mean, share under 5 s, tokens; JSON, Markdown and one SVG chart
// per measure (linked from the Markdown).
import fs from 'node:fs';
import path from 'node:path';
import type { AnalysisResult } from '../analysis/types';
import type { Distribution } from '../analysis/metrics';
import { escapeMd } from './escape';
import { ms, pct, provenanceLine } from './format';
import { percentilePlot, standaloneSvg } from './svg-charts';

const MEASURES = [
  { key: 'turnMs', title: 'Per-request end-to-end time', unit: 'ms' },
  { key: 'ttftMs', title: 'Time to first token (prefill)', unit: 'ms' },
  { key: 'decodeMs', title: 'Decode time', unit: 'ms' },
  { key: 'queueWaitMs', title: 'Queue wait before sending', unit: 'ms' },
  { key: 'sampleMs', title: 'Per-sample total time', unit: 'ms' },
] as const;

const TOKENS = [
  { key: 'promptTokens', title: 'Input (prompt) tokens per request' },
  { key: 'completionTokens', title: 'Output (completion) tokens per request' },
] as const;

export const PROFILE_FILES = { json: 'profile_analysis.json', md: 'profile_report.md', charts: 'profile_charts' } as const;

function row(label: string, d: Distribution, fmt: (x: number) => string, withShare: boolean): string {
  return `| ${escapeMd(label)} | ${d.n} | ${fmt(d.mean)} | ${fmt(d.p10)} | ${fmt(d.p25)} | ${fmt(d.p40)} | ${fmt(d.p50)} | ${fmt(d.p95)} | ${fmt(d.p99)} |${withShare ? ` ${pct(d.shareUnder5s)} |` : ''}`;
}

const HEAD = '| condition | n | mean | p10 | p25 | p40 | p50 | p95 | p99 |';
const RULE = '|---|---|---|---|---|---|---|---|---|';

export function writeProfile(all: AnalysisResult, outDir: string): { files: string[] } {
  // Derived results (a staged first answer) have no timing of their own.
  const r = { ...all, conditions: all.conditions.filter((c) => c.derivedFrom === null) };
  const chartDir = path.join(outDir, PROFILE_FILES.charts);
  fs.mkdirSync(chartDir, { recursive: true });
  const files: string[] = [];
  const json = path.join(outDir, PROFILE_FILES.json);
  fs.writeFileSync(json, JSON.stringify({
    provenance: provenanceLine(r),
    conditions: r.conditions.map((c) => ({ experiment_id: c.experimentId, label: c.label, samples: c.n, ...c.latency })),
  }, null, 2) + '\n');
  files.push(json);
  const md: string[] = [`> ${provenanceLine(r)}`, '', '# Latency profile per condition', '',
    'Percentiles interpolate linearly between order statistics; "<5s" is the share of values under 5,000 ms (the SLA figure). Requests are single chat-completion calls (turns); a sample is the sum of its turns.', ''];
  for (const m of MEASURES) {
    md.push(`## ${m.title}`, '', `${HEAD} <5s |`, `${RULE}---|`, ...r.conditions.map((c) => row(c.label, c.latency[m.key], ms, true)), '');
    const svgFile = path.join(chartDir, `${m.key}.svg`);
    fs.writeFileSync(svgFile, standaloneSvg(percentilePlot(m.title, r.conditions.map((c) => ({ label: c.label, ...c.latency[m.key] })), m.unit)));
    files.push(svgFile);
    md.push(`![${m.title}](${PROFILE_FILES.charts}/${m.key}.svg)`, '');
  }
  const tok = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
  for (const t of TOKENS) md.push(`## ${t.title}`, '', HEAD, RULE, ...r.conditions.map((c) => row(c.label, c.latency[t.key], tok, false)), '');
  md.push('## Throughput', '', '| condition | samples | turns | samples/s |', '|---|---|---|---|',
    ...r.conditions.map((c) => `| ${escapeMd(c.label)} | ${c.n} | ${c.latency.turns} | ${c.latency.throughputSamplesPerS ? c.latency.throughputSamplesPerS.toFixed(2) : 'n/a'} |`), '');
  const mdFile = path.join(outDir, PROFILE_FILES.md);
  fs.writeFileSync(mdFile, md.join('\n'));
  files.push(mdFile);
  return { files };
}
