// TOOL_CALLING_INSIGHTS_REPORT.md: the plan's ten sections, written for a
// reader who has not seen the experiment before. Every section opens with
// what its numbers mean in plain words and one real example from the run
// (src/report/explain.ts). Model text is escaped and shortened; every
// number comes from the AnalysisResult.
import type { AnalysisResult, ConditionResult } from '../analysis/types';
import { SCENES } from '../domain/enums';
import { escapeMd as m } from './escape';
import { fx, ms, pct, provenanceLine, pval, signed } from './format';
import type { SampleDiagnosis } from './sample-diagnosis';
import { RARE_REVISION_RATE, GOOD_REVISION_ACCURACY, claimHead, comparisonSentence } from '../analysis/decision';
import { FAMILY_QUESTIONS, type Family } from '../analysis/claims';
import { formatCi } from '../analysis/numbers';
import { incidentZoneBias, incidentZoneHeadline } from '../analysis/incident-zone';
import * as ex from './explain';

export type Examples = Record<'tool_saved' | 'tool_broke' | 'ignored_tool_warning', SampleDiagnosis[]>;

const short = (s: string | null, n = 160): string => (s === null ? '(none)' : s.length > n ? `${s.slice(0, n)}...` : s);

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function exampleBlock(d: SampleDiagnosis): string {
  const calls = d.tool_calls.map((t) => `  - \`${m(t.name)}\`(${m(short(JSON.stringify(t.arguments), 100))}) -> verdict **${m(t.verdict ?? 'none')}**${t.alternative_scene ? `, suggests ${m(t.alternative_scene)}` : ''}${t.valid ? '' : ` (invalid call: ${m(t.call_status ?? t.error ?? '?')})`}`);
  return [
    `- **Sample ${d.sample_id}** (${m(d.label)}; ground truth **${m(d.ground_truth.scene ?? 'unlabelled')}**, fine class ${m(d.ground_truth.fine_class ?? '-')}): predicted **${m(d.original.scene ?? 'unparseable')}** -> final **${m(d.final.scene ?? 'unparseable')}**`,
    ...(calls.length ? calls : ['  - no tool calls']),
    `  - model's reason: "${m(short(d.revision.reason))}"`,
  ].join('\n');
}

const base = (r: AnalysisResult): ConditionResult | undefined => r.conditions.find((c) => c.experimentId === r.baselineId);
const noise = (on: boolean | undefined): string => (on ? ' ~' : '');

function condTable(r: AnalysisResult): string {
  const b = base(r);
  const rows = r.conditions.map((c) => [
    c.label, String(c.n), fx(c.accuracy), c.experimentId === r.baselineId || !b ? '-' : `${signed(c.accuracy - b.accuracy)}${noise(c.stats?.withinNoiseAccuracy)}`,
    `${fx(c.macroF1)}${c.stats ? ` (${fx(c.stats.macroF1.lo, 3)}-${fx(c.stats.macroF1.hi, 3)})` : ''}`,
    c.experimentId === r.baselineId || !b ? '-' : `${signed(c.macroF1 - b.macroF1)}${noise(c.stats?.withinNoiseMacroF1)}`,
    pct(c.revisionRate), pct(c.revisionAccuracy), String(c.saves), String(c.breaks), String(c.net), c.experimentId === r.baselineId ? '-' : pval(c.mcnemarP),
  ]);
  const rules = r.rules.map((x) => [`${x.rule} (rule, no model)`, String(x.n), fx(x.accuracy), b ? signed(x.accuracy - b.accuracy) : '-',
    `${fx(x.macroF1)}${Number.isFinite(x.macroF1Ci.lo) ? ` (${fx(x.macroF1Ci.lo, 3)}-${fx(x.macroF1Ci.hi, 3)})` : ''}`, b ? signed(x.macroF1 - b.macroF1) : '-',
    pct(b ? x.changed / x.n : NaN), '-', String(x.saves), String(x.breaks), String(x.net), '-']);
  return table(['condition', 'samples', 'accuracy', 'accuracy vs baseline', 'macro-F1 (95% CI)', 'macro-F1 vs baseline', 'revised', 'revision accuracy', 'saves', 'breaks', 'net', 'McNemar p (accuracy)'], [...rows, ...rules]);
}

function section1(r: AnalysisResult, e: Examples, out: string[]): void {
  const b = base(r);
  out.push('## 1. What was tested, and how to read this report', '');
  out.push('A small fine-tuned model (Qwen3-VL-2B) looks at a dashcam picture and names the scene (nominal, flooded, incident_zone, mounted_police, flagger) and the actions. '
    + 'In this experiment a second, general model (the *verifier*, 2B or 8B) reads that prediction, may ask four statistical *tools* (how common is this scene? is it often confused with another? do scene and action fit? is the path plausible?) and then gives its final answer. '
    + 'Three kinds of comparison say whether the tools, and not something else, made a difference: the same verifier *without tools* (no_tools), the tools\' verdicts applied by a fixed *rule* with no model, and, for the staged pipeline, the model\'s *first answer* before it saw any tool response.', '');
  out.push(m(ex.sampleExample(e.tool_saved[0] ?? e.tool_broke[0] ?? e.ignored_tool_warning[0])), '');
  out.push('Words used below:', '',
    '- **Accuracy**: share of all samples whose final scene is right (unlabelled samples count as wrong, as in the plan\'s published numbers).',
    '- **Macro-F1**: the average, over the five scenes, of how well each scene is found (F1); rare scenes count as much as common ones. It is the metric every decision below uses.',
    '- **Save**: the greedy baseline was wrong and the final answer is right. **Break**: the opposite. **Net** = saves - breaks.',
    '- **Revision rate**: how often the final answer differs from the first one; **revision accuracy**: of the changed scenes, the share that are right.',
    '- **95% CI**: the range the number would likely fall in on another draw of samples (paired bootstrap); "~" beside a difference means its interval contains 0 (within noise) for that metric.',
    '- **Holm-corrected p**: the p-value after allowing for testing several comparisons in one family; below 0.05 counts as a real difference.',
    '- **McNemar p**: for accuracy only, the chance of seeing this split of one-sided wins if both sides were equally good.', '');
  if (b) out.push(`The baseline has ${b.n} samples; ${b.nUnlabelled} carry no ground-truth scene and ${b.nUnparseable} baseline predictions could not be parsed (both count as wrong).`, '');
}

function section2(r: AnalysisResult, out: string[]): void {
  out.push('## 2. Headline results by condition, with controls and rule comparators', '');
  out.push('Each row is one way of producing the final scene: the greedy baseline, a verifier condition, a staged run\'s first answer (before any tool response), or a rule that applies the tools\' verdicts with no model. The "vs baseline" columns are differences on the samples both have.', '');
  out.push(m(ex.headlineExample(r)), '', condTable(r), '');
  out.push(m(ex.ruleExample(r)), '');
  if (r.bootstrap.resamples) out.push(`Intervals: ${r.bootstrap.resamples} paired bootstrap resamples (seed ${r.bootstrap.seed}).`, '');
  out.push(m(ex.sampleSetLine(r)), '');
  out.push(`**The incident_zone question.** ${m(ex.incidentZoneSentence(r))} The *ratio* below is how many samples a condition finally calls incident_zone per true incident_zone sample: 1x means the bias is gone, below 1x means real incidents are now missed.`, '');
  out.push(table(['condition', 'predicted incident_zone', 'share of samples', 'ratio to truth', 'precision', 'recall', 'nominal called incident_zone'],
    r.conditions.map((c) => {
      const z = incidentZoneBias(c);
      return [c.label, String(z.predicted), pct(z.predictedShare), Number.isFinite(z.ratio) ? `${z.ratio.toFixed(2)}x` : 'n/a', pct(z.precision), pct(z.recall), String(z.nominalAsIncident)];
    })), '');
  const izLine = incidentZoneHeadline(r.conditions, r.baselineId);
  if (izLine) out.push(`${izLine}.`, '');
}

function section3to4(r: AnalysisResult, out: string[]): void {
  out.push('## 3. The oracle ceiling (go / no-go gate)', '');
  out.push('The *oracle* condition gives the verifier tools that know the true answer. If even then the verifier stays below the gate\'s macro-F1, the plan says stop.', '');
  out.push(m(ex.oracleSentence(r)), '');
  for (const reason of r.decision.reasons.slice(0, 1)) out.push(`- ${m(reason)}`);
  out.push('');
  out.push('## 4. Net flips against the greedy baseline', '');
  out.push('A flip is a sample whose right/wrong status changed against the greedy baseline. These counts and their McNemar test are about accuracy only; the decision (section 10) uses macro-F1.', '');
  out.push(m(ex.flipsExample(r)), '');
  out.push(table(['condition', 'saves', 'breaks', 'net', 'McNemar p (accuracy)', 'accuracy difference'], r.conditions.filter((c) => c.experimentId !== r.baselineId).map((c) => [
    c.label, String(c.saves), String(c.breaks), String(c.net), pval(c.mcnemarP), c.mcnemarP < 0.05 ? (c.net > 0 ? 'more saves than breaks' : 'more breaks than saves') : 'within noise',
  ])), '');
  const scenes = [...SCENES, 'unlabelled'];
  out.push('Saves and breaks per ground-truth scene (saves+/breaks-):', '');
  out.push(table(['condition', ...scenes], [...r.conditions.filter((c) => c.experimentId !== r.baselineId).map((c) => [c.label, ...scenes.map((s) => { const x = c.perScene.find((y) => y.scene === s); return x ? `${x.saves}+/${x.breaks}-` : '-'; })]),
    ...r.rules.map((x) => [x.rule, ...scenes.map((s) => { const y = x.perScene.find((z) => z.scene === s); return y ? `${y.saves}+/${y.breaks}-` : '-'; })])]), '');
}

function section8(r: AnalysisResult, out: string[]): void {
  out.push('## 8. Per-tool effectiveness, informativeness and tool-call validity', '');
  out.push('A tool is *informative* when the original prediction is more often wrong among the samples it warned about than among those it did not (95% Newcombe interval of the difference above 0). A tool that warns about everything of one class can warn often without telling right from wrong. P(revise | tool): among samples where the tool was called, the share whose scene changed.', '');
  out.push(m(ex.toolExample(r)), '');
  const toolRows: string[][] = [];
  for (const c of r.conditions) for (const t of c.tools) if (t.calls > 0) {
    const i = t.informativeness;
    toolRows.push([c.label, m(t.tool || '(no tool name)'), String(t.calls), pct(t.pReviseGivenTool), String(t.warnings), String(t.warningsIgnored),
      `${pct(i.pWrongWarned)} (${i.warnedWrong}/${i.warned})`, `${pct(i.pWrongNotWarned)} (${i.notWarnedWrong}/${i.notWarned})`, formatCi(i.diffCi, 3), i.informative === null ? 'n/a' : i.informative ? 'informative' : 'uninformative']);
  }
  out.push(toolRows.length ? table(['condition', 'tool', 'calls', 'P(revise \\| tool)', 'warnings', 'warned samples ignored', 'P(original wrong \\| warned)', 'P(original wrong \\| not warned)', 'difference 95% CI', 'verdict'], toolRows) : '_No tool calls recorded._', '');
  out.push(table(['condition', 'calls', 'parsed', 'known tool', 'required args', 'schema-valid', 'executed ok', 'call statuses'], r.conditions.filter((c) => c.validity.calls > 0).map((c) => {
    const v = c.validity;
    return [c.label, String(v.calls), pct(v.parsed / v.calls), pct(v.knownTool / v.calls), pct(v.requiredArgsPresent / v.calls), pct(v.schemaValid / v.calls), pct(v.executedOk / v.calls), m(Object.entries(v.callStatus).map(([k, n]) => `${k} ${n}`).join(', '))];
  })), '');
  const statuses = [...new Set(r.conditions.flatMap((c) => Object.keys(c.finalStatus)))].sort();
  out.push('How each sample\'s final answer ended (`ok` = a usable final block; otherwise the original prediction was kept and the status says why):', '');
  out.push(table(['condition', ...statuses.map(m)], r.conditions.map((c) => [c.label, ...statuses.map((st) => String(c.finalStatus[st] ?? 0))])), '');
}

function section9(r: AnalysisResult, out: string[]): void {
  out.push('## 9. 2B vs 8B verifier, and which classes benefit', '');
  out.push('The same condition with the 8B and the 2B verifier, on the samples both have. The decision column uses macro-F1 with Holm\'s correction across all conditions compared; McNemar is on accuracy.', '');
  out.push(m(ex.sizeExample(r)), '');
  out.push(r.sizeComparison.length ? table(['condition', 'samples', 'F1 2B', 'F1 8B', '8B - 2B (95% CI)', 'Holm p (macro-F1)', 'revision rate 2B / 8B', 'revision accuracy 2B / 8B', 'only 8B right / only 2B right', 'McNemar p (accuracy)'], r.sizeComparison.map((s) => [
    s.conditionName, String(s.n), fx(s.macroF1_2b), fx(s.macroF1_8b), `${signed(s.macroF1Diff)}${s.macroF1DiffCi ? ` (${fx(s.macroF1DiffCi.lo, 3)} to ${fx(s.macroF1DiffCi.hi, 3)})` : ''}`, pval(s.pHolm),
    `${pct(s.revisionRate_2b)} / ${pct(s.revisionRate_8b)}`, `${pct(s.revisionAccuracy_2b)} / ${pct(s.revisionAccuracy_8b)}`, `${s.only8bRight} / ${s.only2bRight}`, pval(s.mcnemarP),
  ])) : '_Both sizes were not run for any condition._', '');
  out.push(`Verifier size matters (macro-F1, Holm-corrected p < 0.05 in some condition): **${r.decision.sizeMatters ? 'yes' : 'no'}**.`, '');
  out.push('Per-scene F1 (how well each scene is found):', '');
  out.push(table(['condition', ...SCENES], r.conditions.map((c) => [c.label, ...c.perClass.map((p) => fx(p.f1, 3))])), '');
  const fines = [...new Set(r.conditions.flatMap((c) => c.fineClass.map((f) => f.fineClass)))];
  out.push(m(ex.fineClassSentence(r)), '');
  out.push(table(['condition', ...fines.map(m)], r.conditions.map((c) => [c.label, ...fines.map((f) => { const row = c.fineClass.find((x) => x.fineClass === f); return row ? `${pct(row.accuracy)} (${row.saves}+/${row.breaks}-)` : '-'; })])), '');
}

function section10(r: AnalysisResult, out: string[]): void {
  const d = r.decision;
  out.push('## 10. Latency, decision and recommendation', '');
  out.push('Time per model turn and per sample, then the decision. Each claim below names its comparison, the metric (macro-F1), the 95% paired bootstrap interval of the difference and its Holm-corrected p, with accuracy and McNemar beside it.', '');
  out.push(m(ex.latencyExample(r)), '');
  out.push(table(['condition', 'turns', 'TTFT p50', 'decode p50', 'per turn p50 / p95', 'per sample mean / p50 / p95 / p99', 'samples under 5 s', 'throughput'], r.conditions.filter((c) => c.latency.turns > 0 || c.latency.sampleMs.n > 0).map((c) => {
    const l = c.latency;
    return [c.label, String(l.turns), ms(l.ttftMs.p50), ms(l.decodeMs.p50), `${ms(l.turnMs.p50)} / ${ms(l.turnMs.p95)}`, `${ms(l.sampleMs.mean)} / ${ms(l.sampleMs.p50)} / ${ms(l.sampleMs.p95)} / ${ms(l.sampleMs.p99)}`, pct(l.sampleMs.shareUnder5s), l.throughputSamplesPerS ? `${l.throughputSamplesPerS.toFixed(1)}/s` : 'n/a'];
  })), '');
  out.push(`**${m(ex.decisionLine(r))}**`, '');
  for (const reason of d.reasons) out.push(`- ${m(reason)}`);
  out.push(`- Thresholds: Holm-corrected p < 0.05 per family; "rarely revises" below ${pct(RARE_REVISION_RATE, 0)} revision rate; "revises correctly" at ${pct(GOOD_REVISION_ACCURACY, 0)} revision accuracy or more.`, '');
  for (const family of Object.keys(FAMILY_QUESTIONS) as Family[]) {
    const claims = d.claims.filter((c) => c.family === family);
    if (!claims.length) continue;
    out.push(`**${m(FAMILY_QUESTIONS[family])}**`, '');
    for (const cl of claims) {
      out.push(`- **${m(cl.subject)}: ${m(claimHead(cl, 'holds', 'does not hold'))}**`);
      for (const c of cl.comparisons) out.push(`  - ${m(comparisonSentence(c))}`);
    }
    out.push('');
  }
  out.push(`**Recommendation${d.simulated ? ' (simulated: checks the pipeline, not the model)' : ''}:** ${d.recommendation}`, '');
}

export function insightsMarkdown(r: AnalysisResult, e: Examples): string {
  const out: string[] = [];
  out.push(`> ${provenanceLine(r)}`, `> **${m(ex.failureLine(r))}**`, `> ${m(ex.toolStatsLine(r))}`, '', '# Tool-Calling Verification: Insights Report', '');
  out.push(`**Decision: ${m(ex.decisionLine(r))}** ${r.decision.recommendation}`, '');
  section1(r, e, out);
  section2(r, out);
  section3to4(r, out);
  const exSection = (n: number, title: string, intro: string, list: SampleDiagnosis[]): void => {
    out.push(`## ${n}. ${title}`, '', intro, '');
    out.push(list.length ? list.map(exampleBlock).join('\n') : '_No such samples in these runs._', '');
  };
  exSection(5, 'Samples where tools saved the prediction', 'The baseline was wrong; after the tool calls the verifier\'s final scene is right. Each entry below is a real sample from this run.', e.tool_saved);
  exSection(6, 'Samples where tools broke the prediction', 'The baseline was right; after the tool calls the final scene is wrong. Each entry below is a real sample from this run.', e.tool_broke);
  exSection(7, 'Samples where the model ignored a tool warning', 'A tool answered "doubtful" or "implausible", yet the verifier kept its scene. Each entry below is a real sample from this run.', e.ignored_tool_warning);
  section8(r, out);
  section9(r, out);
  section10(r, out);
  return out.join('\n');
}
