// TOOL_CALLING_INSIGHTS_REPORT.md: the plan's ten sections, written for a
// reader who has not seen the experiment before. Model text is escaped and
// shortened; every number comes from the AnalysisResult.
import type { AnalysisResult, ConditionResult } from '../analysis/types';
import { SCENES } from '../domain/enums';
import { escapeMd as m } from './escape';
import { fx, ms, pct, provenanceLine, pval, signed } from './format';
import type { SampleDiagnosis } from './sample-diagnosis';
import { RARE_REVISION_RATE, GOOD_REVISION_ACCURACY } from '../analysis/decision';
import { incidentZoneBias, incidentZoneHeadline } from '../analysis/incident-zone';

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

function condTable(r: AnalysisResult): string {
  return table(['condition', 'samples', 'accuracy', 'macro-F1 (95% CI)', 'vs baseline', 'revised', 'revision accuracy', 'saves', 'breaks', 'net', 'McNemar p'],
    r.conditions.map((c) => [
      c.label, String(c.n), fx(c.accuracy), `${fx(c.macroF1)}${c.stats ? ` (${fx(c.stats.macroF1.lo, 3)}-${fx(c.stats.macroF1.hi, 3)})` : ''}`,
      c.experimentId === r.baselineId ? '-' : `${signed(c.macroF1 - (base(r)?.macroF1 ?? NaN))}${c.stats?.withinNoise ? ' (within noise)' : ''}`,
      pct(c.revisionRate), pct(c.revisionAccuracy), String(c.saves), String(c.breaks), String(c.net), c.experimentId === r.baselineId ? '-' : pval(c.mcnemarP),
    ]));
}

const base = (r: AnalysisResult): ConditionResult | undefined => r.conditions.find((c) => c.experimentId === r.baselineId);

export function insightsMarkdown(r: AnalysisResult, ex: Examples): string {
  const d = r.decision;
  const b = base(r);
  const out: string[] = [];
  out.push(`> ${provenanceLine(r)}`, '', '# Tool-Calling Verification: Insights Report', '');
  out.push(`**Decision: outcome ${d.outcome} - ${d.outcomeTitle}.** ${d.recommendation}`, '');

  out.push('## 1. What was tested, and how to read this report', '');
  out.push('A small fine-tuned model (Qwen3-VL-2B) looks at a dashcam picture and names the scene (nominal, flooded, incident_zone, mounted_police, flagger) and the actions. It makes one kind of mistake far too often: it calls ordinary ("nominal") scenes "incident_zone". '
    + 'In this experiment a second, general model (the *verifier*, 2B or 8B) reads that prediction, may ask four statistical *tools* (how common is this scene? is it often confused with another? do scene and action fit? is the path plausible?) and then gives its final answer.', '');
  out.push('Words used below:', '',
    '- **Accuracy**: share of all samples whose final scene is right (unlabelled samples count as wrong, as in the plan\'s published numbers).',
    '- **Macro-F1**: the average, over the five scenes, of how well each scene is found (F1); rare scenes count as much as common ones.',
    '- **Save**: the greedy baseline was wrong and the final answer is right. **Break**: the opposite. **Net** = saves - breaks.',
    '- **Revision rate**: how often the final answer differs from the first one; **revision accuracy**: of the changed scenes, the share that are right.',
    '- **95% CI**: the range the number would likely fall in on another draw of samples (paired bootstrap); "within noise" means the difference from the baseline could be chance.',
    '- **McNemar p**: the chance of seeing this many more saves than breaks (or fewer) if the tools did nothing; below 0.05 is usually called significant.', '');
  if (b) out.push(`The baseline has ${b.n} samples; ${b.nUnlabelled} carry no ground-truth scene and ${b.nUnparseable} baseline predictions could not be parsed (both count as wrong).`, '');

  out.push('## 2. Headline results by condition', '', condTable(r), '');
  if (r.bootstrap.resamples) out.push(`Intervals: ${r.bootstrap.resamples} paired bootstrap resamples (seed ${r.bootstrap.seed}).`, '');
  out.push('**The incident_zone question.** The plan\'s motivation: the fine-tuned model calls 46.8% of scenes incident_zone while only 3.7% are (12.5x). '
    + 'The *ratio* below is how many samples a condition finally calls incident_zone per true incident_zone sample: 1x means the bias is gone, below 1x means the verifier now misses real incidents.', '');
  out.push(table(['condition', 'predicted incident_zone', 'share of samples', 'ratio to truth', 'precision', 'recall', 'nominal called incident_zone'],
    r.conditions.map((c) => {
      const z = incidentZoneBias(c);
      return [c.label, String(z.predicted), pct(z.predictedShare), Number.isFinite(z.ratio) ? `${z.ratio.toFixed(2)}x` : 'n/a', pct(z.precision), pct(z.recall), String(z.nominalAsIncident)];
    })), '');
  const izLine = incidentZoneHeadline(r.conditions, r.baselineId);
  if (izLine) out.push(`${izLine}.`, '');

  out.push('## 3. The oracle ceiling (go / no-go gate)', '');
  out.push('The *oracle* condition gives the verifier tools that know the true answer. If even then the verifier cannot reach a macro-F1 of the gate, real tools cannot do better and the plan says stop.', '');
  for (const reason of d.reasons.slice(0, 1)) out.push(`- ${m(reason)}`);
  out.push('');

  out.push('## 4. Net flips against the greedy baseline', '');
  out.push(table(['condition', 'saves', 'breaks', 'net', 'McNemar p', 'verdict'], r.conditions.filter((c) => c.experimentId !== r.baselineId).map((c) => [
    c.label, String(c.saves), String(c.breaks), String(c.net), pval(c.mcnemarP), c.mcnemarP < 0.05 ? (c.net > 0 ? 'helps' : 'hurts') : 'within noise',
  ])), '');

  const exSection = (n: number, title: string, intro: string, list: SampleDiagnosis[]): void => {
    out.push(`## ${n}. ${title}`, '', intro, '');
    out.push(list.length ? list.map(exampleBlock).join('\n') : '_No such samples in these runs._', '');
  };
  exSection(5, 'Samples where tools saved the prediction', 'The baseline was wrong; after the tool calls the verifier\'s final scene is right.', ex.tool_saved);
  exSection(6, 'Samples where tools broke the prediction', 'The baseline was right; after the tool calls the final scene is wrong.', ex.tool_broke);
  exSection(7, 'Samples where the model ignored a tool warning', 'A tool answered "doubtful" or "implausible", yet the verifier kept its scene.', ex.ignored_tool_warning);

  out.push('## 8. Per-tool effectiveness and tool-call validity', '');
  out.push('P(revise \\| tool): among samples where the tool was called, the share whose scene changed. Warnings ignored: warned samples whose scene stayed.', '');
  const toolRows: string[][] = [];
  for (const c of r.conditions) for (const t of c.tools) if (t.calls > 0) toolRows.push([c.label, m(t.tool || '(no tool name)'), String(t.calls), pct(t.pReviseGivenTool), String(t.warnings), String(t.warningsIgnored)]);
  out.push(toolRows.length ? table(['condition', 'tool', 'calls', 'P(revise \\| tool)', 'warnings', 'warned samples ignored'], toolRows) : '_No tool calls recorded._', '');
  out.push(table(['condition', 'calls', 'parsed', 'known tool', 'required args', 'schema-valid', 'executed ok', 'call statuses'], r.conditions.filter((c) => c.validity.calls > 0).map((c) => {
    const v = c.validity;
    return [c.label, String(v.calls), pct(v.parsed / v.calls), pct(v.knownTool / v.calls), pct(v.requiredArgsPresent / v.calls), pct(v.schemaValid / v.calls), pct(v.executedOk / v.calls), m(Object.entries(v.callStatus).map(([k, n]) => `${k} ${n}`).join(', '))];
  })), '');

  const statuses = [...new Set(r.conditions.flatMap((c) => Object.keys(c.finalStatus)))].sort();
  out.push('How each sample\'s final answer ended (`ok` = a usable final block; otherwise the original prediction was kept and the status says why):', '');
  out.push(table(['condition', ...statuses.map(m)], r.conditions.map((c) => [c.label, ...statuses.map((st) => String(c.finalStatus[st] ?? 0))])), '');

  out.push('## 9. 2B vs 8B verifier, and which classes benefit', '');
  out.push(r.sizeComparison.length ? table(['condition', 'F1 2B', 'F1 8B', '8B - 2B (95% CI)', 'revision rate 2B / 8B', 'revision accuracy 2B / 8B', 'only 8B right / only 2B right', 'McNemar p'], r.sizeComparison.map((s) => [
    s.conditionName, fx(s.macroF1_2b), fx(s.macroF1_8b), `${signed(s.macroF1Diff)}${s.macroF1DiffCi ? ` (${fx(s.macroF1DiffCi.lo, 3)} to ${fx(s.macroF1DiffCi.hi, 3)})` : ''}`,
    `${pct(s.revisionRate_2b)} / ${pct(s.revisionRate_8b)}`, `${pct(s.revisionAccuracy_2b)} / ${pct(s.revisionAccuracy_8b)}`, `${s.only8bRight} / ${s.only2bRight}`, pval(s.mcnemarP),
  ])) : '_Both sizes were not run for any condition._', '');
  out.push(`Verifier size matters: **${d.sizeMatters ? 'yes' : 'no'}**.`, '');
  out.push('Per-scene F1 (how well each scene is found):', '');
  out.push(table(['condition', ...SCENES], r.conditions.map((c) => [c.label, ...c.perClass.map((p) => fx(p.f1, 3))])), '');
  const fines = [...new Set(r.conditions.flatMap((c) => c.fineClass.map((f) => f.fineClass)))];
  out.push('Accuracy per fine class (nominal_triggers is the root cause of the baseline\'s errors):', '');
  out.push(table(['condition', ...fines.map(m)], r.conditions.map((c) => [c.label, ...fines.map((f) => { const row = c.fineClass.find((x) => x.fineClass === f); return row ? `${pct(row.accuracy)} (${row.saves}+/${row.breaks}-)` : '-'; })])), '');

  out.push('## 10. Latency, decision and recommendation', '');
  out.push(table(['condition', 'turns', 'TTFT p50', 'decode p50', 'per turn p50 / p95', 'per sample mean / p50 / p95 / p99', 'samples under 5 s', 'throughput'], r.conditions.map((c) => {
    const l = c.latency;
    return [c.label, String(l.turns), ms(l.ttftMs.p50), ms(l.decodeMs.p50), `${ms(l.turnMs.p50)} / ${ms(l.turnMs.p95)}`, `${ms(l.sampleMs.mean)} / ${ms(l.sampleMs.p50)} / ${ms(l.sampleMs.p95)} / ${ms(l.sampleMs.p99)}`, pct(l.sampleMs.shareUnder5s), l.throughputSamplesPerS ? `${l.throughputSamplesPerS.toFixed(1)}/s` : 'n/a'];
  })), '');
  out.push(`**Outcome ${d.outcome}: ${d.outcomeTitle}.**`, '');
  for (const reason of d.reasons) out.push(`- ${m(reason)}`);
  out.push(`- Thresholds: significance 0.05; "rarely revises" below ${pct(RARE_REVISION_RATE, 0)} revision rate; "revises correctly" at ${pct(GOOD_REVISION_ACCURACY, 0)} revision accuracy or more.`, '');
  out.push(`**Does verifier size matter?** ${d.sizeMatters ? 'Yes' : 'No'}.`, '');
  for (const s of d.sizeReasons) out.push(`- ${m(s)}`);
  out.push('', `**Recommendation:** ${d.recommendation}`, '');
  return out.join('\n');
}
