// The plain-words openings of the report sections, each with one real
// example from the run, and the sentences that state facts about this run.
// Every fact here is computed from the AnalysisResult, never fixed text, so
// the Markdown and the HTML say the same true thing. Returns plain text:
// callers escape for their format.
import type { AnalysisResult, ConditionResult, ToolMetrics } from '../analysis/types';
import { SIMULATED_MARK } from '../analysis/decision';
import { incidentZoneBias } from '../analysis/incident-zone';
import { fixed as fx, formatCi, formatP, signed } from '../analysis/numbers';
import type { SampleDiagnosis } from './sample-diagnosis';

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
const baseOf = (r: AnalysisResult): ConditionResult | undefined => r.conditions.find((c) => c.experimentId === r.baselineId);
const bestTool = (r: AnalysisResult): ConditionResult | undefined => [...r.conditions].filter((c) => c.role === 'tool').sort((a, b) => b.macroF1 - a.macroF1)[0];

/** How the tool statistics were built, for the report header. */
export function toolStatsLine(r: AnalysisResult): string {
  if (r.toolStatsModes.length === 0) return 'Tool statistics: mode not recorded for these experiments.';
  const words = r.toolStatsModes.map((m) => {
    const k = /^cross_fit_(\d+)$/.exec(m)?.[1];
    return k ? `cross-fitted with ${k} folds (each sample's tool answers come from statistics of the other folds)` : 'in-sample (built from all samples, including the one being verified, as the plan does; this flatters the tools)';
  });
  return `Tool statistics: ${words.join('; ')}.`;
}

/** What the analysed samples are and which were left out of comparisons. */
export function sampleSetLine(r: AnalysisResult): string {
  const ns = [...new Set(r.conditions.map((c) => c.n))];
  const partial = r.conditions.filter((c) => c.stats && c.stats.leftOutVsBaseline > 0);
  const suite = r.suite ? `suite ${r.suite}` : 'the experiments given';
  return `Samples: ${ns.length === 1 ? `${ns[0]} in every condition` : `${Math.min(...ns)} to ${Math.max(...ns)} per condition`} (${suite}). `
    + (partial.length
      ? `Each comparison uses only the samples both sides have: ${partial.map((c) => `${c.label} vs baseline on ${c.stats!.nVsBaseline} (${c.stats!.leftOutVsBaseline} of its samples have no baseline row)`).join('; ')}.`
      : 'Every comparison uses the same samples for its point estimate, interval and test; none were left out.');
}

/** The decision line; synthetic runs say the decision checks the pipeline
 * only; with no decision, which conditions stand in the way. */
export function decisionLine(r: AnalysisResult): string {
  const d = r.decision;
  const sim = d.simulated ? `[${SIMULATED_MARK}] ` : '';
  if (d.outcome === null) return `${sim}${d.outcomeTitle}: ${d.refused.join('; ')}.`;
  return `${sim}Outcome ${d.outcome}: ${d.outcomeTitle}.`;
}

/** Failed samples (no answer: server errors, timeouts) per condition, and
 * whether the numbers are partial; first in every report. */
export function failureLine(r: AnalysisResult): string {
  const failed = r.conditions.filter((c) => c.role !== 'first_answer' && c.nFailed > 0);
  const head = r.partial ? 'PARTIAL: experiments still running were analysed (--partial); no decision. ' : '';
  if (failed.length === 0) return `${head}Failed samples: none (every sample has an answer).`;
  return `${head}FAILED samples (server errors or timeouts: no answer, left out of every metric, rerun with \`tce run --resume\`): `
    + failed.map((c) => `${c.label} ${c.nFailed} of ${c.n + c.nFailed}`).join(', ') + '.';
}

export function sampleExample(d: SampleDiagnosis | undefined): string {
  if (!d) return 'No sample of this run shows it.';
  const calls = d.tool_calls.filter((t) => t.verdict !== null).map((t) => `${t.name} said ${t.verdict}${t.alternative_scene ? ` (suggesting ${t.alternative_scene})` : ''}`);
  return `Example from this run: sample ${d.sample_id} (${d.label}) is truly ${d.ground_truth.scene ?? 'unlabelled'}${d.ground_truth.fine_class ? ` (${d.ground_truth.fine_class})` : ''}; `
    + `the prediction shown to the verifier was ${d.original.scene ?? 'unparseable'}${calls.length ? `; ${calls.join(', ')}` : '; no tool answered'}; the final answer was ${d.final.scene ?? 'unparseable'} (${d.flip.replace('_', ' ')} against the greedy baseline).`;
}

export function headlineExample(r: AnalysisResult): string {
  const b = baseOf(r), t = bestTool(r);
  if (!b) return 'No baseline was analysed, so differences are not shown.';
  return `Example from this run: the greedy baseline is right on ${b.correct} of ${b.n} samples (accuracy ${fx(b.accuracy)}) with macro-F1 ${fx(b.macroF1)}`
    + (t ? `; ${t.label}, the best tool condition by macro-F1, is right on ${t.correct} of ${t.n} (${fx(t.accuracy)}), macro-F1 ${fx(t.macroF1)}, ${signed(t.macroF1 - b.macroF1)} against the baseline.` : '.');
}

export function incidentZoneSentence(r: AnalysisResult): string {
  const b = baseOf(r);
  if (!b) return '';
  const z = incidentZoneBias(b);
  return `In this run the greedy baseline calls ${z.predicted} of ${b.n} samples (${pct(z.predictedShare)}) incident_zone while ${z.truth} are: ${Number.isFinite(z.ratio) ? `${z.ratio.toFixed(1)}x` : 'n/a'}.`;
}

/** Section 3: the oracle against the best real-tool condition, as measured. */
export function oracleSentence(r: AnalysisResult): string {
  const oracle = r.conditions.filter((c) => c.role === 'oracle').sort((a, b) => b.macroF1 - a.macroF1);
  const t = bestTool(r);
  if (oracle.length === 0) return 'No oracle condition was analysed, so the ceiling is unknown.';
  const o = oracle[0]!;
  const beats = r.conditions.filter((c) => c.role === 'tool' && oracle.some((x) => c.macroF1 > x.macroF1));
  return `Example from this run: ${o.label} reaches macro-F1 ${fx(o.macroF1)} against the gate of ${r.decision.gateThreshold}. `
    + (t ? `The best real-tool condition, ${t.label}, reaches ${fx(t.macroF1)}. ` : '')
    + (beats.length
      ? `${beats.map((c) => c.label).join(', ')} score above at least one oracle condition here, so the oracle is not a ceiling for every verifier in this run (a different prompt path or verifier size can do better than a weaker verifier with perfect tools).`
      : 'No real-tool condition scores above an oracle condition in this run.');
}

export function flipsExample(r: AnalysisResult): string {
  const c = [...r.conditions].filter((x) => x.experimentId !== r.baselineId).sort((a, b) => b.net - a.net)[0];
  return c ? `Example from this run: ${c.label} turned ${c.saves} wrong baseline answers right and ${c.breaks} right ones wrong: net ${signed(c.net, 0)}; exact McNemar p ${formatP(c.mcnemarP)} (accuracy only).` : 'No condition besides the baseline was analysed.';
}

/** Section 8: one tool's informativeness in words. */
export function informativenessSentence(c: ConditionResult, t: ToolMetrics): string {
  const i = t.informativeness;
  const verdict = i.informative === null ? 'cannot be judged (it always or never warned)' : i.informative ? 'informative: its warnings pick out wrong originals' : 'uninformative: wrong originals are not more common among its warnings beyond noise';
  return `${t.tool} in ${c.label} answered on ${i.warned + i.notWarned} samples; when it warned the original was wrong in ${pct(i.pWrongWarned)} (${i.warnedWrong}/${i.warned}), when it did not in ${pct(i.pWrongNotWarned)} (${i.notWarnedWrong}/${i.notWarned}); difference 95% interval ${formatCi(i.diffCi, 3)}: ${verdict}.`;
}

export function toolExample(r: AnalysisResult): string {
  const order = [...r.conditions.filter((c) => c.role === 'tool'), ...r.conditions.filter((c) => c.role !== 'tool')];
  for (const c of order) for (const t of c.tools) if (t.informativeness.warned + t.informativeness.notWarned > 0) return `Example from this run: ${informativenessSentence(c, t)}`;
  return 'No tool answered in this run.';
}

export function sizeExample(r: AnalysisResult): string {
  const s = r.sizeComparison[0];
  return s ? `Example from this run: ${s.conditionName} reaches macro-F1 ${fx(s.macroF1_8b)} with the 8B verifier and ${fx(s.macroF1_2b)} with the 2B one (difference ${signed(s.macroF1Diff)}, 95% CI ${formatCi(s.macroF1DiffCi)}, Holm-corrected p ${formatP(s.pHolm)}, ${s.n} samples).`
    : 'Both sizes were not run for any condition.';
}

export function latencyExample(r: AnalysisResult): string {
  const c = r.conditions.find((x) => x.latency.sampleMs.n > 0 && x.role === 'tool');
  return c ? `Example from this run: a ${c.label} sample took ${Math.round(c.latency.sampleMs.p50)} ms at the median over ${c.latency.turns} model turns in all; ${pct(c.latency.sampleMs.shareUnder5s)} of its samples finished under 5 s.` : 'No timed model turns in this run.';
}

export function ruleExample(r: AnalysisResult): string {
  const x = [...r.rules].sort((a, b) => b.macroF1 - a.macroF1)[0];
  const b = baseOf(r);
  if (!x) return `No rule comparators: ${r.rulesMissing ?? 'none computed'}.`;
  return `Example from this run: ${x.rule} (${x.tools.join(' + ')}) changed ${x.changed} greedy scenes with no model, saving ${x.saves} and breaking ${x.breaks}; accuracy ${fx(x.accuracy)}, macro-F1 ${fx(x.macroF1)}${b ? ` against the baseline's ${fx(b.accuracy)} and ${fx(b.macroF1)}` : ''}.`;
}

/** Which fine class holds most of the baseline's errors, as measured. */
export function fineClassSentence(r: AnalysisResult): string {
  const b = baseOf(r);
  const worst = b ? [...b.fineClass].sort((x, y) => (y.n - y.correct) - (x.n - x.correct))[0] : undefined;
  if (!b || !worst) return 'Accuracy per fine class:';
  const wrong = b.n - b.correct;
  return `Accuracy per fine class (in this run ${worst.fineClass} holds ${worst.n - worst.correct} of the baseline's ${wrong} errors, ${pct(wrong ? (worst.n - worst.correct) / wrong : NaN)}):`;
}
