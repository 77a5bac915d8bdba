// Rule comparators: what the tools would achieve with no model at all.
// Each tool's verdict is applied mechanically to the greedy prediction:
// where the tool flags it (doubtful or implausible) and names an
// alternative scene, the rule takes that scene. A verifier that does no
// better than its tools' rule adds nothing of its own.
import { isScene, type Scene } from '../domain/enums';
import { BUILTIN_TOOLS } from '../tools/registry';
import { tableFor, type ToolStats } from '../tools/stats';
import type { ToolDef, Verdict } from '../tools/tool-def';
import type { PredictionRow } from './load';
import { PLAN_TOOLS } from './condition';
import { CHECK_CONFUSION_RISK, CHECK_SCENE_ACTION_COMPATIBILITY, CHECK_SCENE_PRIOR, CHECK_WAYPOINT_FEASIBILITY } from '../protocol/tools';

/** One tool's answer to a greedy prediction, reduced to what a rule uses. */
export interface RuleVerdict {
  tool: string;
  verdict: Verdict | null;
  alternative: Scene | null;
}

/** The rule's scene for one sample. With several tools the most severe
 * warning that names an alternative wins (implausible over doubtful); on a
 * tie the earlier tool in the plan's order. No such warning: the greedy
 * scene stands. */
export function applyRule(greedyScene: string | null, verdicts: readonly RuleVerdict[]): string | null {
  const rank = (v: Verdict | null): number => (v === 'implausible' ? 2 : v === 'doubtful' ? 1 : 0);
  let best: RuleVerdict | null = null;
  for (const v of verdicts) {
    if (rank(v.verdict) === 0 || v.alternative === null) continue;
    if (best === null || rank(v.verdict) > rank(best.verdict)) best = v;
  }
  return best ? best.alternative : greedyScene;
}

export interface RuleSpec {
  /** rule_<tool column> or rule_all_tools. */
  rule: string;
  tools: string[];
}

/** One rule per plan tool and one for all four together. */
export const RULES: RuleSpec[] = [
  ...PLAN_TOOLS.map((t) => ({ rule: `rule_${t.name}`, tools: [t.name] as string[] })),
  { rule: 'rule_all_tools', tools: PLAN_TOOLS.map((t) => t.name) },
];

/** The arguments a verifier would pass for the greedy prediction; null
 * when the prediction lacks what the tool needs (an unparseable scene,
 * no waypoint): then the tool cannot flag it. */
function argsFor(tool: string, p: GreedyRow): Record<string, unknown> | null {
  if (!isScene(p.original_scene)) return null;
  const scene = p.original_scene;
  switch (tool) {
    case CHECK_SCENE_PRIOR:
    case CHECK_CONFUSION_RISK:
      return { predicted_scene: scene };
    case CHECK_SCENE_ACTION_COMPATIBILITY:
      return { scene, long_action: p.original_long_action ?? 'null', lat_action: p.original_lat_action ?? 'null' };
    case CHECK_WAYPOINT_FEASIBILITY: {
      const wp = firstWaypoint(p.original_waypoints_json);
      return wp ? { scene, long_action: p.original_long_action ?? 'null', first_waypoint_x: wp[0], first_waypoint_y: wp[1] } : null;
    }
    default:
      return null;
  }
}

function firstWaypoint(json: string | null): [number, number] | null {
  if (!json) return null;
  try {
    const v = JSON.parse(json) as unknown;
    const first = Array.isArray(v) ? (v[0] as unknown) : null;
    return Array.isArray(first) && typeof first[0] === 'number' && typeof first[1] === 'number' ? [first[0], first[1]] : null;
  } catch {
    return null;
  }
}

export type GreedyRow = Pick<PredictionRow, 'sample_id' | 'original_scene' | 'original_long_action' | 'original_lat_action'> & { original_waypoints_json: string | null };

const TOOL_BY_NAME = new Map<string, ToolDef>(BUILTIN_TOOLS.map((t) => [t.name, t]));

/** Every plan tool's verdict on one greedy prediction, answered from the
 * statistics this sample may see (cross-fitted when the run was). */
export function verdictsFor(p: GreedyRow, stats: ToolStats): RuleVerdict[] {
  return PLAN_TOOLS.map(({ name }) => {
    const def = TOOL_BY_NAME.get(name)!;
    const args = argsFor(name, p);
    const parsed = args ? def.parameters.safeParse(args) : null;
    if (!parsed?.success) return { tool: name, verdict: null, alternative: null };
    const a = def.run(parsed.data, tableFor(stats, p.sample_id));
    if (a instanceof Promise) throw new Error(`${name}: built-in tools answer synchronously`);
    const alt = a['alternative_scene'];
    return { tool: name, verdict: a.verdict, alternative: isScene(alt) ? alt : null };
  });
}

/** Per rule, the scene it gives each sample. */
export function rulePredictions(greedy: readonly GreedyRow[], stats: ToolStats): Map<string, Map<number, string | null>> {
  const out = new Map<string, Map<number, string | null>>(RULES.map((r) => [r.rule, new Map()]));
  for (const p of greedy) {
    const vs = verdictsFor(p, stats);
    for (const r of RULES) out.get(r.rule)!.set(p.sample_id, applyRule(p.original_scene, vs.filter((v) => r.tools.includes(v.tool))));
  }
  return out;
}
