// The plan's "Decision Points": which of the four outcomes the numbers
// support, and whether verifier size matters. Thresholds are named here so
// the report can quote them.
import type { ConditionResult, Decision, SizeComparison } from './types';

export const SIGNIFICANCE = 0.05;
/** Below this revision rate the model "rarely revises" (outcome 3). */
export const RARE_REVISION_RATE = 0.05;
/** Revisions are "correct" when at least this share of them is right. */
export const GOOD_REVISION_ACCURACY = 0.5;
/** The tools are informative when they warn on at least this share of wrong originals. */
export const INFORMATIVE_RECALL = 0.5;
/** The model ignores warnings when it keeps the scene on at least this share of warned samples. */
export const IGNORED_SHARE = 0.8;

const REAL_TOOL_CONDITIONS = ['prior_only', 'confusion_only', 'all_tools', 'staged'];
const f = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** A real-tool condition "helps" when its macro-F1 beats the baseline
 * beyond noise (bootstrap interval of the difference above 0, or, without
 * a bootstrap, more saves than breaks with exact McNemar p < 0.05). */
export function helps(c: ConditionResult): boolean {
  if (c.stats) return c.stats.macroF1Diff.lo > 0;
  return c.net > 0 && c.mcnemarP < SIGNIFICANCE;
}

export function decide(conditions: ConditionResult[], sizes: SizeComparison[], gateThreshold: number): Decision {
  const oracle = conditions.filter((c) => c.conditionName === 'oracle');
  const oracleF1 = Object.fromEntries(oracle.map((c) => [c.label, c.macroF1]));
  const gatePassed = oracle.length === 0 ? null : oracle.some((c) => c.macroF1 >= gateThreshold);
  const reasons: string[] = [];
  reasons.push(oracle.length === 0
    ? 'no oracle condition was analysed, so the ceiling is unknown; the outcome below assumes it would pass'
    : `oracle macro-F1: ${oracle.map((c) => `${c.label} ${f(c.macroF1)}`).join(', ')} vs gate ${gateThreshold}: ${gatePassed ? 'passed' : 'failed'}`);
  const baseF1 = conditions.find((c) => c.conditionName === 'baseline')?.macroF1 ?? NaN;
  const real = conditions.filter((c) => REAL_TOOL_CONDITIONS.includes(c.conditionName));
  const best = [...real].sort((a, b) => b.macroF1 - a.macroF1)[0] ?? null;
  const bestReal = best && {
    label: best.label, macroF1Diff: best.macroF1 - baseF1, net: best.net, mcnemarP: best.mcnemarP,
    revisionRate: best.revisionRate, revisionAccuracy: best.revisionAccuracy,
  };
  const helping = real.filter(helps);
  let outcome: Decision['outcome'];
  if (gatePassed === false) {
    outcome = 1;
  } else if (helping.length > 0) {
    const good = helping.filter((c) => c.revisionRate >= RARE_REVISION_RATE && c.revisionAccuracy >= GOOD_REVISION_ACCURACY);
    outcome = good.length > 0 ? 4 : 3;
    reasons.push(`real tools beat the baseline beyond noise in: ${helping.map((c) => `${c.label} (F1 ${f(c.macroF1)} vs ${f(baseF1)}, net ${c.net}, McNemar p ${c.mcnemarP.toExponential(2)})`).join('; ')}`);
    reasons.push(outcome === 4
      ? `and the model revises (rate >= ${RARE_REVISION_RATE}) with revision accuracy >= ${GOOD_REVISION_ACCURACY} in: ${good.map((c) => `${c.label} (rate ${f(c.revisionRate, 3)}, accuracy ${f(c.revisionAccuracy, 3)})`).join('; ')}`
      : `but revisions are rare or mostly wrong: ${helping.map((c) => `${c.label} (rate ${f(c.revisionRate, 3)}, accuracy ${f(c.revisionAccuracy, 3)})`).join('; ')}`);
  } else {
    // No gain: is it the tools (uninformative) or the model (ignores them)?
    const ignoring = real.filter((c) => c.originalWrong > 0 && c.originalWrongWarned / c.originalWrong >= INFORMATIVE_RECALL
      && c.warnedSamples > 0 && (c.warnedSamples - c.warnedRevised) / c.warnedSamples >= IGNORED_SHARE);
    outcome = ignoring.length > 0 ? 3 : 2;
    reasons.push(`no real-tool condition beats the baseline beyond noise${best ? ` (best: ${best.label}, F1 ${f(best.macroF1)} vs ${f(baseF1)}, net ${best.net})` : ''}`);
    reasons.push(outcome === 3
      ? `yet the tools warned on >= ${INFORMATIVE_RECALL * 100}% of wrong originals and the model kept its scene on >= ${IGNORED_SHARE * 100}% of warned samples in: ${ignoring.map((c) => `${c.label} (warned ${c.originalWrongWarned}/${c.originalWrong} wrong originals, revised ${c.warnedRevised}/${c.warnedSamples} warned)`).join('; ')}`
      : 'and the tools do not flag the wrong predictions often enough for the model to act on them');
  }
  const significant = sizes.filter((s) => s.significant);
  const sizeReasons = sizes.map((s) => `${s.conditionName}: 8B-2B macro-F1 ${s.macroF1Diff >= 0 ? '+' : ''}${f(s.macroF1Diff)}${s.macroF1DiffCi ? ` (95% CI ${f(s.macroF1DiffCi.lo)} to ${f(s.macroF1DiffCi.hi)})` : ''}, discordant ${s.only8bRight} vs ${s.only2bRight}, McNemar p ${s.mcnemarP.toExponential(2)}${s.significant ? '' : ' (within noise)'}`);
  return {
    gateThreshold, oracleF1, gatePassed, outcome, outcomeTitle: OUTCOME_TITLES[outcome], reasons, bestReal,
    sizeMatters: significant.length > 0, sizeReasons,
    recommendation: RECOMMENDATIONS[outcome],
  };
}

export const OUTCOME_TITLES: Record<Decision['outcome'], string> = {
  1: 'Oracle ceiling low: stop, the model cannot self-correct even with perfect information',
  2: 'Oracle high, real tools do not help: the tools are not informative enough',
  3: 'Real tools carry the signal but the model rarely acts on it',
  4: 'Real tools help and the model revises correctly: a viable path',
};

const RECOMMENDATIONS: Record<Decision['outcome'], string> = {
  1: 'Do not pursue tool calling for this model/task; retrain (e.g. rebalance nominal_triggers vs incident_zone) instead.',
  2: 'Iterate on tool design (sharper, per-sample evidence rather than base rates) before spending more GPU time on verification runs.',
  3: 'Replace model-driven revision by a rule-based post-processor that applies the tools\' verdicts directly, or train the verifier to follow them.',
  4: 'Pursue tool calling: keep the tools that drive the saves (see per-tool effectiveness), drop the ones that cause breaks, and optimise latency.',
};
