// The experimental conditions as data (plan, "Experimental Conditions
// Summary"): five verification conditions × two verifier sizes + the greedy
// baseline = 11. Everything that differs between conditions is here.
import type { VerifierSize } from '../domain/enums';
import { VERIFIER_SIZES } from '../domain/enums';
import type { ModelRole } from '../backends/types';
import { TceError } from '../util/errors';

export type ConditionName = 'baseline' | 'oracle' | 'prior_only' | 'confusion_only' | 'all_tools' | 'staged';
export type Pipeline = 'A' | 'B';

export interface ConditionSpec {
  name: ConditionName;
  pipeline: Pipeline;
  /** Tools offered to the verifier (names as in src/tools). */
  tools: readonly string[];
  /** Tools answer from the sample's ground truth. */
  oracle: boolean;
  /** Whether a verifier model runs at all (not for the baseline). */
  verifier: boolean;
  question: string;
}

const ALL_TOOLS = ['check_scene_prior', 'check_scene_action_compatibility', 'check_waypoint_feasibility', 'check_confusion_risk'] as const;

export const CONDITION_TABLE: readonly ConditionSpec[] = [
  { name: 'baseline', pipeline: 'A', tools: [], oracle: false, verifier: false, question: 'Existing greedy results' },
  { name: 'oracle', pipeline: 'A', tools: ALL_TOOLS, oracle: true, verifier: true, question: 'Ceiling: can the verifier use perfect information?' },
  { name: 'prior_only', pipeline: 'A', tools: ['check_scene_prior'], oracle: false, verifier: true, question: 'Does base-rate information fix incident_zone?' },
  { name: 'confusion_only', pipeline: 'A', tools: ['check_confusion_risk'], oracle: false, verifier: true, question: 'Does confusion awareness help?' },
  { name: 'all_tools', pipeline: 'A', tools: ALL_TOOLS, oracle: false, verifier: true, question: 'Full verify-and-revise' },
  { name: 'staged', pipeline: 'B', tools: ALL_TOOLS, oracle: false, verifier: true, question: 'Can tools replace fine-tuning?' },
];

/** One runnable condition: a spec bound to a verifier size. */
export interface Condition extends ConditionSpec {
  /** e.g. "oracle_8b", "baseline". */
  id: string;
  size: VerifierSize | null;
  role: ModelRole | null;
}

export function roleOf(size: VerifierSize): ModelRole {
  return size === '2b' ? 'verifier_2b' : 'verifier_8b';
}

/** The 11 conditions, in the plan's order (baseline, then oracle first). */
export const CONDITIONS: readonly Condition[] = CONDITION_TABLE.flatMap((spec): Condition[] =>
  spec.verifier
    ? VERIFIER_SIZES.map((size) => ({ ...spec, id: `${spec.name}_${size}`, size, role: roleOf(size) }))
    : [{ ...spec, id: spec.name, size: null, role: null }],
);

export function conditionById(id: string): Condition {
  const c = CONDITIONS.find((x) => x.id === id);
  if (!c) throw new TceError('UNKNOWN_CONDITION', `unknown condition '${id}'`, `known: ${CONDITIONS.map((x) => x.id).join(', ')}`);
  return c;
}

/** `tc_{condition}_{verifier_size}_{timestamp}` (plan, task 4). */
export function experimentId(c: Condition, timestamp: string): string {
  return c.size ? `tc_${c.name}_${c.size}_${timestamp}` : `tc_${c.name}_${timestamp}`;
}

/** YYYYMMDD_HHMMSS in UTC. */
export function runTimestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
