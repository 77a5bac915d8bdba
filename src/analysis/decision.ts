// The plan's "Decision Points": which of the four outcomes the numbers
// support, and whether verifier size matters, from the claims of
// claims.ts (each with its comparison, metric, interval and Holm p).
// Thresholds are named here so the report can quote them.
import type { ConditionResult, Decision } from './types';
import { gatePasses } from '../protocol/gate';
import { ALPHA, type Claim, type Comparison } from './claims';
import { fixed as f, formatCi, formatP, signed } from './numbers';
import { MAX_FAILED_SHARE, refusals } from './readiness';

export const SIGNIFICANCE = ALPHA;
/** Below this revision rate the model "rarely revises" (outcome 3). */
export const RARE_REVISION_RATE = 0.05;
/** Revisions are "correct" when at least this share of them is right. */
export const GOOD_REVISION_ACCURACY = 0.5;
/** The model ignores warnings when it keeps the scene on at least this share of warned samples. */
export const IGNORED_SHARE = 0.8;

export const SIMULATED_MARK = 'simulated: checks the pipeline, not the model';

/** One comparison in words: arms, primary metric with interval and Holm
 * p, then accuracy with McNemar, each labelled. */
export function comparisonSentence(c: Comparison): string {
  const left = c.leftOut.filter((x) => x.count > 0).map((x) => `${x.count} of ${x.label}'s samples left out (not in the other arm)`);
  return `${c.a} vs ${c.b} (n ${c.n}${left.length ? `; ${left.join('; ')}` : ''}): `
    + `macro-F1 ${f(c.macroF1A)} vs ${f(c.macroF1B)}, difference ${signed(c.macroF1Diff)} (95% paired bootstrap CI ${formatCi(c.macroF1Ci)}), bootstrap p ${formatP(c.p)}, Holm-corrected p ${formatP(c.pHolm)}: ${c.verdict}; `
    + `beside it, accuracy ${f(c.accuracyA)} vs ${f(c.accuracyB)}, difference ${signed(c.accuracyDiff)} (95% CI ${formatCi(c.accuracyCi)}), exact McNemar p ${formatP(c.mcnemarP)} (right only with ${c.a}: ${c.onlyA}, only with ${c.b}: ${c.onlyB})`;
}

/** A claim's state in words: drawn (holds or not), not drawn (a condition
 * it needs failed or is incomplete) or not judged (a control missing, no bootstrap). */
export function claimHead(cl: Claim, yes: string, no: string): string {
  if (cl.notDrawn) return `not drawn: ${cl.notDrawn}`;
  return cl.holds === true ? yes : cl.holds === false ? no : `not judged${cl.missing ? ` (${cl.missing})` : ''}`;
}

export function claimSentence(cl: Claim): string {
  const head = claimHead(cl, 'holds', 'does not hold');
  return `${cl.subject}: ${head}${cl.comparisons.length ? ` - ${cl.comparisons.map(comparisonSentence).join(' | ')}` : ''}`;
}

/** The gate from the oracles that can judge it: a failed or incomplete
 * oracle's macro-F1 says nothing about the ceiling, so it passes the gate
 * only through a sound oracle, and fails it only when every oracle is sound. */
function gateOf(conditions: ConditionResult[], gateThreshold: number): { oracleF1: Record<string, number>; gatePassed: boolean | null; reason: string } {
  const oracle = conditions.filter((c) => c.role === 'oracle');
  const oracleF1 = Object.fromEntries(oracle.map((c) => [c.label, c.macroF1]));
  const sound = oracle.filter((c) => !c.problem);
  const soundPass = sound.length > 0 && gatePasses(sound.map((c) => c.macroF1), gateThreshold);
  const gatePassed = oracle.length === 0 ? null : soundPass ? true : sound.length === oracle.length ? false : null;
  const verdict = gatePassed === null ? 'not judged' : gatePassed ? 'passed' : 'failed';
  const reason = oracle.length === 0
    ? 'no oracle condition was analysed, so the ceiling is unknown; the outcome below assumes it would pass'
    : `oracle macro-F1: ${oracle.map((c) => `${c.label} ${f(c.macroF1)}${c.problem ? ` (${c.problem})` : ''}`).join(', ')} vs gate ${gateThreshold}: ${verdict}`;
  return { oracleF1, gatePassed, reason };
}

/** No tool helps: is it the tools (their warnings do not pick out wrong
 * originals) or the model (it keeps its scene when warned)? */
function noGainOutcome(real: ConditionResult[]): { outcome: 2 | 3; reason: string } {
  const informative = real.flatMap((c) => c.tools.filter((t) => t.informativeness.informative === true).map((t) => ({ c, t })));
  const ignoring = real.filter((c) => informative.some((x) => x.c === c) && c.warnedSamples > 0 && (c.warnedSamples - c.warnedRevised) / c.warnedSamples >= IGNORED_SHARE);
  if (ignoring.length > 0) {
    return { outcome: 3, reason: `yet warnings pick out wrong originals (P(original wrong | warned) above P(original wrong | not warned), 95% Newcombe interval above 0) and the model kept its scene on >= ${IGNORED_SHARE * 100}% of warned samples in: ${ignoring.map((c) => `${c.label} (revised ${c.warnedRevised}/${c.warnedSamples} warned samples)`).join('; ')}` };
  }
  return { outcome: 2, reason: informative.length
    ? `and where warnings pick out wrong originals (${[...new Set(informative.map((x) => `${x.t.tool} in ${x.c.label}`))].join(', ')}) the model acts on them, without a gain beyond its controls`
    : 'and no tool\'s warnings pick out wrong originals better than chance (every tool is uninformative)' };
}

export function decide(conditions: ConditionResult[], claims: Claim[], gateThreshold: number, synthetic = false, maxFailedShare = MAX_FAILED_SHARE): Decision {
  const gate = gateOf(conditions, gateThreshold);
  const sizeClaims = claims.filter((c) => c.family === 'size_matters');
  const sizeMatters = sizeClaims.some((c) => c.comparisons.some((x) => x.verdict === 'better' || x.verdict === 'worse'));
  const refused = refusals(conditions, gate.gatePassed, maxFailedShare);
  if (refused.length) {
    return {
      gateThreshold, oracleF1: gate.oracleF1, gatePassed: gate.gatePassed, outcome: null, refused, outcomeTitle: NO_DECISION_TITLE, reasons: [gate.reason, ...refused], bestReal: null,
      claims, simulated: synthetic, sizeMatters, sizeReasons: sizeClaims.map(claimSentence),
      recommendation: 'Run or rerun the conditions named above (`tce run --resume` reruns failed samples), then analyse again.',
    };
  }
  const reasons: string[] = [gate.reason];
  const baseF1 = conditions.find((c) => c.role === 'baseline')?.macroF1 ?? NaN;
  const real = conditions.filter((c) => c.role === 'tool');
  const best = [...real].sort((a, b) => b.macroF1 - a.macroF1)[0] ?? null;
  const bestReal = best && { label: best.label, macroF1Diff: best.macroF1 - baseF1, net: best.net, mcnemarP: best.mcnemarP, revisionRate: best.revisionRate, revisionAccuracy: best.revisionAccuracy };
  const helpClaims = claims.filter((c) => (c.family === 'tools_help_verifier' || c.family === 'tools_help_base_model') && c.holds === true);
  const helping = real.filter((c) => helpClaims.some((cl) => cl.subject === c.label));
  let outcome: Decision['outcome'];
  if (gate.gatePassed === false) {
    outcome = 1;
  } else if (helping.length > 0) {
    const good = helping.filter((c) => c.revisionRate >= RARE_REVISION_RATE && c.revisionAccuracy >= GOOD_REVISION_ACCURACY);
    outcome = good.length > 0 ? 4 : 3;
    reasons.push(`the tools help, beyond their controls on macro-F1 (Holm-corrected p < ${ALPHA}), in: ${helping.map((c) => c.label).join(', ')}`);
    reasons.push(outcome === 4
      ? `and the model revises (rate >= ${RARE_REVISION_RATE}) with revision accuracy >= ${GOOD_REVISION_ACCURACY} in: ${good.map((c) => `${c.label} (rate ${f(c.revisionRate, 3)}, accuracy ${f(c.revisionAccuracy, 3)})`).join('; ')}`
      : `but revisions are rare or mostly wrong: ${helping.map((c) => `${c.label} (rate ${f(c.revisionRate, 3)}, accuracy ${f(c.revisionAccuracy, 3)})`).join('; ')}`);
  } else {
    const judged = claims.filter((c) => c.family === 'tools_help_verifier' || c.family === 'tools_help_base_model');
    const x = noGainOutcome(real);
    outcome = x.outcome;
    reasons.push(judged.length
      ? `no tool condition beats its controls on macro-F1 (Holm-corrected p < ${ALPHA}): ${judged.map((c) => `${c.subject} ${c.holds === null ? 'not judged' : 'no'}`).join(', ')}`
      : 'no tool condition could be compared with its controls');
    reasons.push(x.reason);
  }
  return {
    gateThreshold, oracleF1: gate.oracleF1, gatePassed: gate.gatePassed, outcome, refused: [], outcomeTitle: OUTCOME_TITLES[outcome], reasons, bestReal,
    claims, simulated: synthetic,
    sizeMatters, sizeReasons: sizeClaims.map(claimSentence),
    recommendation: RECOMMENDATIONS[outcome],
  };
}

export const NO_DECISION_TITLE = 'No decision: a condition the decision needs is missing, incomplete or failed';

export const OUTCOME_TITLES: Record<1 | 2 | 3 | 4, string> = {
  1: 'Oracle ceiling low: stop, the model cannot self-correct even with perfect information',
  2: 'Oracle high, real tools do not help: the tools are not informative enough',
  3: 'Real tools carry the signal but the model rarely acts on it',
  4: 'Real tools help and the model revises correctly: a viable path',
};

const RECOMMENDATIONS: Record<1 | 2 | 3 | 4, string> = {
  1: 'Do not pursue tool calling for this model/task; retrain (e.g. rebalance nominal_triggers vs incident_zone) instead.',
  2: 'Iterate on tool design (sharper, per-sample evidence rather than base rates) before spending more GPU time on verification runs.',
  3: 'Replace model-driven revision by a rule-based post-processor that applies the tools\' verdicts directly, or train the verifier to follow them.',
  4: 'Pursue tool calling: keep the tools that drive the saves (see per-tool effectiveness), drop the ones that cause breaks, and optimise latency.',
};
