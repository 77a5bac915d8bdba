// The comparisons the decision rests on, in four families, each with its
// own Holm correction. The primary metric is macro-F1 (the plan's gate
// metric) with a paired bootstrap interval and p-value; accuracy with the
// exact McNemar test is reported beside it and never decides.
//
//   tools_help_verifier      a Pipeline A tool condition vs the same verifier without tools
//                            (no_tools) AND vs its tools' rule comparator (no model)
//   tools_help_base_model    staged final answer vs staged first answer (before any tool response)
//   tools_replace_finetuning staged final answer vs the greedy (fine-tuned) baseline
//   size_matters             8B vs 2B, per condition
import type { ConditionResult, RuleBaseline } from './types';
import type { JobResult } from './paired';
import { holm, type Interval } from './stats';

export const ALPHA = 0.05;

export type Family = 'tools_help_verifier' | 'tools_help_base_model' | 'tools_replace_finetuning' | 'size_matters';

export const FAMILY_QUESTIONS: Record<Family, string> = {
  tools_help_verifier: 'Do the tools help the verifier? (tool condition vs the same verifier without tools, and vs the tools\' own rule)',
  tools_help_base_model: 'Do the tools help the base model? (staged final answer vs its first answer, before any tool response)',
  tools_replace_finetuning: 'Can tools replace fine-tuning? (staged final answer vs the fine-tuned model\'s greedy baseline)',
  size_matters: 'Does verifier size matter? (8B vs 2B, same condition)',
};

export type Verdict = 'better' | 'worse' | 'no difference' | 'not tested';

export interface Comparison {
  family: Family;
  /** Labels of the two arms: the difference is a - b. */
  a: string; b: string;
  n: number;
  leftOut: Array<{ label: string; count: number }>;
  macroF1A: number; macroF1B: number; macroF1Diff: number; macroF1Ci: Interval;
  /** Paired bootstrap p, and Holm-corrected within the family. */
  p: number; pHolm: number;
  accuracyA: number; accuracyB: number; accuracyDiff: number; accuracyCi: Interval;
  onlyA: number; onlyB: number; mcnemarP: number;
  verdict: Verdict;
}

export interface Claim {
  family: Family;
  /** The condition the claim is about, e.g. all_tools_8b (size_matters: the condition name). */
  subject: string;
  /** true / false, or null when a comparison could not be made. */
  holds: boolean | null;
  comparisons: Comparison[];
  /** Why holds is null (a missing control or comparator). */
  missing: string | null;
  /** The conditions the claim rests on (its arms; a rule comparator rests on the baseline). */
  needs: string[];
  /** Not drawn: which condition it needs is failed or incomplete, e.g.
   * "needs staged_8b (failed: 34% of samples failed, 68 of 200)"; its
   * comparisons are shown but not tested (no verdict, not in the Holm family). */
  notDrawn: string | null;
}

/** Which pairs to compare: built from the analysed conditions' own facts
 * (pipeline, tools offered, oracle), so a condition added to the table is
 * compared without naming it here. */
export interface ClaimPlan {
  family: Family;
  subject: string;
  pairs: Array<{ a: string; b: string }>;
  missing: string | null;
  needs: string[];
}

const sameTools = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((t) => y.includes(t));

export function planClaims(conditions: ConditionResult[], rules: RuleBaseline[], labels: Set<string>): ClaimPlan[] {
  const plans: ClaimPlan[] = [];
  const has = (l: string): boolean => labels.has(l);
  const baseline = conditions.find((c) => c.role === 'baseline');
  for (const c of conditions) {
    if (c.role === 'tool' && c.pipeline === 'A') {
      const control = conditions.find((x) => x.role === 'control' && x.verifierSize === c.verifierSize);
      const rule = rules.find((r) => sameTools(r.tools, c.toolsOffered));
      const missing = [!control && `no no_tools control for ${c.verifierSize ?? 'this size'}`, !rule && (rules.length ? `no rule comparator with tools ${c.toolsOffered.join('+')}` : 'no rule comparators (tool statistics not available)')].filter(Boolean).join('; ');
      const needs = [c.label, control?.label, rule && baseline?.label].filter((x): x is string => !!x);
      plans.push({ family: 'tools_help_verifier', subject: c.label, pairs: [control && { a: c.label, b: control.label }, rule && { a: c.label, b: rule.rule }].filter((x): x is { a: string; b: string } => !!x), missing: missing || null, needs });
    }
    if (c.role === 'tool' && c.pipeline === 'B') {
      const first = conditions.find((x) => x.role === 'first_answer' && x.derivedFrom === c.experimentId);
      plans.push({ family: 'tools_help_base_model', subject: c.label, pairs: first ? [{ a: c.label, b: first.label }] : [], missing: first ? null : 'no first answer recorded', needs: first ? [c.label, first.label] : [c.label] });
      plans.push({ family: 'tools_replace_finetuning', subject: c.label, pairs: baseline ? [{ a: c.label, b: baseline.label }] : [], missing: baseline ? null : 'no baseline experiment', needs: baseline ? [c.label, baseline.label] : [c.label] });
    }
  }
  for (const name of [...new Set(conditions.map((c) => c.conditionName))]) {
    const c2 = conditions.find((c) => c.conditionName === name && c.verifierSize === '2b');
    const c8 = conditions.find((c) => c.conditionName === name && c.verifierSize === '8b');
    if (c2 && c8 && has(c2.label) && has(c8.label)) plans.push({ family: 'size_matters', subject: name, pairs: [{ a: c8.label, b: c2.label }], missing: null, needs: [c8.label, c2.label] });
  }
  return plans;
}

/** Why a plan cannot be drawn: the needed conditions that are failed or
 * incomplete (`problems`: label -> conditionIssue), or null. */
function blockedBy(plan: ClaimPlan, problems: ReadonlyMap<string, string>): string | null {
  const bad = [...new Set(plan.needs)].filter((l) => problems.has(l));
  return bad.length ? bad.map((l) => `needs ${l} (${problems.get(l)!})`).join('; ') : null;
}

/** Holm within each family over the comparisons of the claims that can be
 * drawn, verdicts, and whether each claim holds. A claim that needs a failed
 * or incomplete condition is not drawn: its comparisons keep their numbers
 * but no verdict, so one dead condition withholds only its own claims. */
export function judgeClaims(plans: ClaimPlan[], results: Map<string, JobResult>, problems: ReadonlyMap<string, string> = new Map()): Claim[] {
  const comps = new Map<ClaimPlan, Comparison[]>();
  const blocked = new Map(plans.map((p) => [p, blockedBy(p, problems)]));
  for (const plan of plans) comps.set(plan, plan.pairs.map(({ a, b }) => comparisonOf(plan.family, a, b, results.get(`${a}\u0000${b}`)!)));
  for (const family of Object.keys(FAMILY_QUESTIONS) as Family[]) {
    const list = plans.filter((p) => p.family === family && blocked.get(p) === null).flatMap((p) => comps.get(p)!);
    const adj = holm(list.map((c) => c.p));
    list.forEach((c, i) => {
      c.pHolm = adj[i]!;
      c.verdict = !Number.isFinite(c.pHolm) ? 'not tested' : c.pHolm >= ALPHA ? 'no difference' : c.macroF1Diff > 0 ? 'better' : 'worse';
    });
  }
  return plans.map((plan) => {
    const cs = comps.get(plan)!;
    const notDrawn = blocked.get(plan)!;
    const base = { family: plan.family, subject: plan.subject, comparisons: cs, needs: plan.needs, notDrawn };
    if (notDrawn) return { ...base, holds: null, missing: plan.missing };
    const untested = cs.some((c) => c.verdict === 'not tested');
    // Size matters in either direction; every other claim needs "better" on all its comparisons.
    const pass = (c: Comparison): boolean => c.verdict === 'better' || (plan.family === 'size_matters' && c.verdict === 'worse');
    const fails = cs.some((c) => c.verdict !== 'not tested' && !pass(c));
    const holds = fails ? false : plan.missing !== null || untested || cs.length === 0 ? null : true;
    return { ...base, holds, missing: plan.missing ?? (untested ? 'no bootstrap, so no test of the primary metric' : null) };
  });
}

function comparisonOf(family: Family, a: string, b: string, r: JobResult): Comparison {
  const d = r.diff!;
  return {
    family, a, b, n: r.n, leftOut: r.leftOut,
    macroF1A: r.a.macroF1, macroF1B: r.b!.macroF1, macroF1Diff: d.macroF1, macroF1Ci: d.macroF1Ci, p: d.macroF1P, pHolm: NaN,
    accuracyA: r.a.accuracy, accuracyB: r.b!.accuracy, accuracyDiff: d.accuracy, accuracyCi: d.accuracyCi,
    onlyA: d.onlyA, onlyB: d.onlyB, mcnemarP: d.mcnemarP, verdict: 'not tested',
  };
}

/** Every pair any plan needs, as "a\0b" keys. */
export function pairsOf(plans: ClaimPlan[]): Array<{ a: string; b: string }> {
  const seen = new Map<string, { a: string; b: string }>();
  for (const p of plans) for (const x of p.pairs) seen.set(`${x.a}\u0000${x.b}`, x);
  return [...seen.values()];
}
