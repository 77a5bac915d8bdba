// The condition table `tce analyze` prints, with the rule comparators
// beside the conditions and one line per claim of the decision.
import type { AnalysisResult } from '../analysis/types';
import { fx, pct, pval, provenanceLine, signed } from './format';
import { incidentZoneHeadline } from '../analysis/incident-zone';
import { formatCi } from '../analysis/numbers';
import { decisionLine, failureLine, toolStatsLine } from './explain';
import { claimHead } from '../analysis/decision';

function claimLines(r: AnalysisResult): string[] {
  return r.decision.claims.map((cl) => {
    const parts = cl.comparisons.map((c) => `${c.a} vs ${c.b}: dF1 ${signed(c.macroF1Diff)} [${formatCi(c.macroF1Ci)}] Holm p ${pval(c.pHolm)} ${c.verdict}; dAcc ${signed(c.accuracyDiff)} McNemar p ${pval(c.mcnemarP)} (n ${c.n})`);
    const head = claimHead(cl, 'yes', 'no');
    return `  ${cl.family} ${cl.subject}: ${head}${parts.length ? ` - ${parts.join(' | ')}` : ''}`;
  });
}

function gateWord(d: AnalysisResult['decision']): string {
  if (d.gatePassed !== null) return d.gatePassed ? 'PASSED' : 'FAILED';
  return Object.keys(d.oracleF1).length ? 'NOT JUDGED (an oracle failed or is incomplete)' : 'NOT RUN';
}

export function summaryTable(r: AnalysisResult): string {
  const head = ['condition', 'n', 'acc', 'acc 95% CI', 'dAcc vs base', 'macro-F1', 'F1 95% CI', 'dF1 vs base', 'rev', 'rev acc', 'saves', 'breaks', 'net', 'McNemar p', 'p50 sample'];
  const base = r.conditions.find((c) => c.experimentId === r.baselineId);
  const ci = (i: { lo: number; hi: number } | undefined): string => (i && Number.isFinite(i.lo) ? `${fx(i.lo, 3)}-${fx(i.hi, 3)}` : '-');
  const rows = r.conditions.map((c) => [
    c.label, String(c.n), fx(c.accuracy), ci(c.stats?.accuracy),
    base && c !== base ? `${signed(c.accuracy - base.accuracy)}${c.stats?.withinNoiseAccuracy ? ' ~' : ''}` : '-',
    fx(c.macroF1), ci(c.stats?.macroF1),
    base && c !== base ? `${signed(c.macroF1 - base.macroF1)}${c.stats?.withinNoiseMacroF1 ? ' ~' : ''}` : '-',
    pct(c.revisionRate), pct(c.revisionAccuracy), String(c.saves), String(c.breaks), String(c.net), c === base ? '-' : pval(c.mcnemarP),
    Number.isFinite(c.latency.sampleMs.p50) ? `${Math.round(c.latency.sampleMs.p50)} ms` : 'n/a',
  ]);
  const rules = r.rules.map((x) => [
    x.rule, String(x.n), fx(x.accuracy), ci(x.accuracyCi), base ? signed(x.accuracy - base.accuracy) : '-', fx(x.macroF1), ci(x.macroF1Ci), base ? signed(x.macroF1 - base.macroF1) : '-',
    pct(x.changed / x.n), '-', String(x.saves), String(x.breaks), String(x.net), '-', 'no model',
  ]);
  const all = [...rows, ...rules];
  const widths = head.map((h, i) => Math.max(h.length, ...all.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  const d = r.decision;
  const out = [
    provenanceLine(r),
    failureLine(r),
    toolStatsLine(r),
    r.bootstrap.resamples ? `95% intervals: ${r.bootstrap.resamples} paired bootstrap resamples, seed ${r.bootstrap.seed}; "~" = that metric's difference from the baseline is within noise.` : 'No bootstrap (--bootstrap 0).',
    line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line),
    ...(rules.length ? [line(widths.map((w) => '-'.repeat(w))), ...rules.map(line)] : [`(no rule comparators: ${r.rulesMissing ?? 'none'})`]),
    '',
    `Gate: oracle macro-F1 ${Object.entries(d.oracleF1).map(([k, v]) => `${k} ${fx(v)}`).join(', ') || 'n/a'} vs ${d.gateThreshold} -> ${gateWord(d)}`,
    decisionLine(r),
    'Claims (macro-F1, paired bootstrap, Holm-corrected per family; accuracy and McNemar beside):',
    ...claimLines(r),
    `Verifier size matters: ${d.sizeMatters ? 'yes' : 'no'}`,
  ];
  const iz = incidentZoneHeadline(r.conditions, r.baselineId);
  if (iz) out.splice(out.indexOf(decisionLine(r)) - 1, 0, iz);
  return out.join('\n') + '\n';
}
