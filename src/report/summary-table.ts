// The condition table `tce analyze` prints.
import type { AnalysisResult } from '../analysis/types';
import { fx, pct, pval, provenanceLine, signed } from './format';
import { incidentZoneHeadline } from '../analysis/incident-zone';

export function summaryTable(r: AnalysisResult): string {
  const head = ['condition', 'n', 'acc', 'acc 95% CI', 'macro-F1', 'F1 95% CI', 'dF1 vs base', 'rev', 'rev acc', 'saves', 'breaks', 'net', 'McNemar p', 'p50 sample'];
  const base = r.conditions.find((c) => c.experimentId === r.baselineId);
  const rows = r.conditions.map((c) => [
    c.label, String(c.n), fx(c.accuracy), c.stats ? `${fx(c.stats.accuracy.lo, 3)}-${fx(c.stats.accuracy.hi, 3)}` : '-',
    fx(c.macroF1), c.stats ? `${fx(c.stats.macroF1.lo, 3)}-${fx(c.stats.macroF1.hi, 3)}` : '-',
    base && c !== base ? `${signed(c.macroF1 - base.macroF1)}${c.stats?.withinNoise ? ' ~' : ''}` : '-',
    pct(c.revisionRate), pct(c.revisionAccuracy), String(c.saves), String(c.breaks), String(c.net), c === base ? '-' : pval(c.mcnemarP),
    Number.isFinite(c.latency.sampleMs.p50) ? `${Math.round(c.latency.sampleMs.p50)} ms` : 'n/a',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  const d = r.decision;
  const out = [
    provenanceLine(r),
    r.bootstrap.resamples ? `95% intervals: ${r.bootstrap.resamples} paired bootstrap resamples, seed ${r.bootstrap.seed}; "~" = difference within noise.` : 'No bootstrap (--bootstrap 0).',
    line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line),
    '',
    `Gate: oracle macro-F1 ${Object.entries(d.oracleF1).map(([k, v]) => `${k} ${fx(v)}`).join(', ') || 'n/a'} vs ${d.gateThreshold} -> ${d.gatePassed === null ? 'NOT RUN' : d.gatePassed ? 'PASSED' : 'FAILED'}`,
    `Outcome ${d.outcome}: ${d.outcomeTitle}`,
    `Verifier size matters: ${d.sizeMatters ? 'yes' : 'no'}`,
  ];
  const iz = incidentZoneHeadline(r.conditions, r.baselineId);
  if (iz) out.splice(out.length - 3, 0, iz);
  return out.join('\n') + '\n';
}
