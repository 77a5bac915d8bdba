// Whether the analysed conditions can carry a decision: each one it needs
// present, run to the end and not failed. A decision drawn from failed or
// missing conditions would turn an outage into a finding (issue 14, W1/W8).
import type { ConditionResult } from './types';

/** Default run.maxFailedShare: above it a condition counts as failed. */
export const MAX_FAILED_SHARE = 0.02;

/** Failed samples as a share of the samples the condition holds rows for. */
export function failedShare(c: Pick<ConditionResult, 'n' | 'nFailed'>): number {
  const all = c.n + (c.nFailed ?? 0);
  return all === 0 ? 0 : (c.nFailed ?? 0) / all;
}

/** Why no claim about this condition can be drawn, in a few words (the
 * claims that need it say "not drawn: needs <label> (<this>)"), or null. */
export function conditionIssue(c: ConditionResult, maxFailedShare: number): string | null {
  const failed = c.nFailed ?? 0;
  const share = failedShare(c);
  if (failed > 0 && share > maxFailedShare) return `failed: ${Math.round(share * 100)}% of samples failed, ${failed} of ${c.n + failed}`;
  if (c.runStatus === 'running' || c.runStatus === 'interrupted') return `incomplete: status ${c.runStatus}`;
  if (c.nPlanned !== undefined && c.nPlanned !== null && c.n + failed < c.nPlanned) return `incomplete: ${c.n + failed} of ${c.nPlanned} samples`;
  return null;
}

/** Why this condition cannot carry a decision, or null when it can. */
export function conditionProblem(c: ConditionResult, maxFailedShare: number): string | null {
  const failed = c.nFailed ?? 0;
  if (failed > 0 && failedShare(c) > maxFailedShare) {
    return `${c.label} failed: ${failed} of ${c.n + failed} samples have no answer (server errors or timeouts; more than run.maxFailedShare ${maxFailedShare}); rerun them with \`tce run --resume\``;
  }
  if (c.runStatus === 'running' || c.runStatus === 'interrupted') return `${c.label} is incomplete (status ${c.runStatus})`;
  if (c.nPlanned !== undefined && c.nPlanned !== null && c.n + failed < c.nPlanned) return `${c.label} is incomplete: ${c.n + failed} of ${c.nPlanned} samples`;
  return null;
}

/** The reasons no decision can be drawn (empty when one can). The gate
 * alone decides outcome 1, so a failed gate on sound oracles needs nothing
 * else; every other outcome needs the baseline, a passed gate and at least
 * one tool condition, all sound. */
export function refusals(conditions: ConditionResult[], gatePassed: boolean | null, maxFailedShare: number): string[] {
  const own = conditions.filter((c) => c.role !== 'first_answer');
  const oracles = own.filter((c) => c.role === 'oracle');
  const oracleProblems = oracles.map((c) => conditionProblem(c, maxFailedShare)).filter((x): x is string => x !== null);
  if (oracleProblems.length) return oracleProblems;
  if (gatePassed === false) return [];
  const out: string[] = [];
  if (gatePassed === null) out.push('gate NOT RUN: no oracle condition was analysed, so the ceiling is unknown');
  if (!own.some((c) => c.role === 'baseline')) out.push('no baseline condition was analysed');
  if (!own.some((c) => c.role === 'tool')) out.push('no tool condition was analysed (only ' + (own.map((c) => c.label).join(', ') || 'nothing') + ')');
  for (const c of own) if (c.role !== 'oracle') { const p = conditionProblem(c, maxFailedShare); if (p) out.push(p); }
  return out;
}
