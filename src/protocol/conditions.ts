// The experimental conditions as data (plan, "Experimental Conditions
// Summary"): five verification conditions x two verifier sizes + the greedy
// baseline = 11, and the no_tools control at both sizes (the verifier with
// the same prompt and image but no tools) = 13. Everything that differs between conditions is here,
// including the tools each pipeline stage offers: `tools` is exactly what
// the model is offered over a sample, and what experiments.tools_enabled
// records.
import type { VerifierSize } from '../domain/enums';
import { VERIFIER_SIZES } from '../domain/enums';
import { TceError } from '../util/errors';
import type { PredictionField } from './definitions';
import { roleOf, type VerifierRole } from './roles';
import { CHECK_CONFUSION_RISK, CHECK_SCENE_ACTION_COMPATIBILITY, CHECK_SCENE_PRIOR, CHECK_WAYPOINT_FEASIBILITY, TOOL_NAMES, type ToolName } from './tools';

export const CONDITION_NAMES = ['baseline', 'oracle', 'no_tools', 'prior_only', 'confusion_only', 'all_tools', 'staged'] as const;
export type ConditionName = (typeof CONDITION_NAMES)[number];
export const [BASELINE, ORACLE, NO_TOOLS, PRIOR_ONLY, CONFUSION_ONLY, ALL_TOOLS, STAGED] = CONDITION_NAMES;

export type Pipeline = 'A' | 'B';

export const STAGE_NAMES = ['stage_scene', 'stage_action', 'stage_waypoints'] as const;
export type StageName = (typeof STAGE_NAMES)[number];
export const [STAGE_SCENE, STAGE_ACTION, STAGE_WAYPOINTS] = STAGE_NAMES;

/** One step of Pipeline B: its own user turn (and tool loop), the tools
 * offered in it, and the prediction fields it decides. */
export interface Stage {
  name: StageName;
  tools: readonly ToolName[];
  fields: readonly PredictionField[];
}

/** Pipeline B's three stages, one tool each. */
export const STAGES: readonly Stage[] = [
  { name: STAGE_SCENE, tools: [CHECK_CONFUSION_RISK], fields: ['scene'] },
  { name: STAGE_ACTION, tools: [CHECK_SCENE_ACTION_COMPATIBILITY], fields: ['longAction', 'latAction'] },
  { name: STAGE_WAYPOINTS, tools: [CHECK_WAYPOINT_FEASIBILITY], fields: [] },
];

export function stageOf(name: StageName): Stage {
  return STAGES.find((s) => s.name === name)!;
}

export interface ConditionSpec {
  name: ConditionName;
  pipeline: Pipeline;
  /** Every tool offered to the model over one sample, in offering order:
   * Pipeline A offers them all in one turn, Pipeline B per stage. */
  tools: readonly ToolName[];
  /** Pipeline B's stages; empty for Pipeline A. */
  stages: readonly Stage[];
  /** Tools answer from the sample's ground truth. */
  oracle: boolean;
  /** Whether a verifier model runs at all (not for the baseline). */
  verifier: boolean;
  /** A control, not one of the plan's conditions: runs unless run.controls is false. */
  control: boolean;
  /** The model's first answer, before any tool response, is recorded
   * (original_*) and analysed as its own result, <name>_first_answer:
   * what the model does without the tools, at no extra model call. */
  firstAnswer: boolean;
  question: string;
}

/** The derived result holding a condition's first answers. */
export function firstAnswerName(name: string): string {
  return `${name}_first_answer`;
}

type SpecBody = Omit<ConditionSpec, 'name' | 'pipeline' | 'tools' | 'stages'>;
const pipelineA = (tools: readonly ToolName[]) => ({ pipeline: 'A' as const, tools, stages: [] as readonly Stage[] });
const pipelineB = (stages: readonly Stage[]) => ({ pipeline: 'B' as const, tools: [...new Set(stages.flatMap((s) => s.tools))], stages });

const plain = { control: false, firstAnswer: false };
const SPECS: Record<ConditionName, SpecBody & ReturnType<typeof pipelineA | typeof pipelineB>> = {
  [BASELINE]: { ...pipelineA([]), ...plain, oracle: false, verifier: false, question: 'Existing greedy results' },
  [ORACLE]: { ...pipelineA(TOOL_NAMES), ...plain, oracle: true, verifier: true, question: 'Ceiling: can the verifier use perfect information?' },
  [NO_TOOLS]: { ...pipelineA([]), ...plain, control: true, oracle: false, verifier: true, question: 'Control: what does the verifier do with the same prompt and image but no tools?' },
  [PRIOR_ONLY]: { ...pipelineA([CHECK_SCENE_PRIOR]), ...plain, oracle: false, verifier: true, question: 'Does base-rate information fix incident_zone?' },
  [CONFUSION_ONLY]: { ...pipelineA([CHECK_CONFUSION_RISK]), ...plain, oracle: false, verifier: true, question: 'Does confusion awareness help?' },
  [ALL_TOOLS]: { ...pipelineA(TOOL_NAMES), ...plain, oracle: false, verifier: true, question: 'Full verify-and-revise' },
  [STAGED]: { ...pipelineB(STAGES), ...plain, firstAnswer: true, oracle: false, verifier: true, question: 'Can tools replace fine-tuning?' },
};

/** The plan's six conditions and the no_tools control, in report order. */
export const CONDITION_TABLE: readonly ConditionSpec[] = CONDITION_NAMES.map((name) => ({ name, ...SPECS[name] }));

/** The spec of a condition name read from outside (a database row, a flag);
 * undefined when it is not one of ours. */
export function conditionSpec(name: string): ConditionSpec | undefined {
  return CONDITION_TABLE.find((c) => c.name === name);
}

/** Conditions whose tools answer from statistics (not the oracle, not the baseline, not the no-tools control). */
export function isRealToolCondition(name: string): boolean {
  const c = conditionSpec(name);
  return c !== undefined && c.verifier && !c.oracle && c.tools.length > 0;
}

/** One runnable condition: a spec bound to a verifier size. */
export interface Condition extends ConditionSpec {
  /** e.g. "oracle_8b", "baseline". */
  id: string;
  size: VerifierSize | null;
  role: VerifierRole | null;
}

/** A condition's id and report label: "oracle_8b", "baseline". */
export function conditionLabel(name: string, size: string | null): string {
  return size ? `${name}_${size}` : name;
}

/** The 13 runnable conditions, in report order (baseline, then oracle first). */
export const CONDITIONS: readonly Condition[] = CONDITION_TABLE.flatMap((spec): Condition[] =>
  spec.verifier
    ? VERIFIER_SIZES.map((size) => ({ ...spec, id: conditionLabel(spec.name, size), size, role: roleOf(size) }))
    : [{ ...spec, id: conditionLabel(spec.name, null), size: null, role: null }],
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
