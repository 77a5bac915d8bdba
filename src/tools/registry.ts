// The tool set. Built-in tools are listed here; a custom tool is one file
// exporting `tool` (a ToolDef), loaded by path (executor `extraModules`).
// Conditions name the tools they offer; this module turns names into the
// OpenAI `tools` array.
import path from 'node:path';
import { TceError } from '../util/errors';
import { checkConfusionRisk } from './defs/check-confusion-risk';
import { checkSceneActionCompatibility } from './defs/check-scene-action-compatibility';
import { checkScenePrior } from './defs/check-scene-prior';
import { checkWaypointFeasibility } from './defs/check-waypoint-feasibility';
import { openAiTool, type ToolDef } from './tool-def';

/** The plan's four tools, in the plan's order (protocol/tools.ts TOOL_NAMES; test 41 checks). */
export const BUILTIN_TOOLS: readonly ToolDef[] = [checkScenePrior, checkSceneActionCompatibility, checkWaypointFeasibility, checkConfusionRisk];

const BUILTIN_BY_NAME = new Map(BUILTIN_TOOLS.map((t) => [t.name, t]));

export function isBuiltinTool(name: string): boolean {
  return BUILTIN_BY_NAME.has(name);
}

function isToolDef(v: unknown): v is ToolDef {
  const d = v as ToolDef | null;
  return d !== null && typeof d === 'object' && typeof d.name === 'string' && typeof d.description === 'string' && typeof d.run === 'function' && typeof d.parameters?.safeParse === 'function';
}

/** Built-ins plus the `tool` export of each extra module (absolute or
 * relative to the working directory). */
export function loadToolSet(extraModules: readonly string[] = []): Map<string, ToolDef> {
  const tools = new Map(BUILTIN_BY_NAME);
  for (const file of extraModules) {
    const abs = path.resolve(file);
    let mod: { tool?: unknown };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(abs) as { tool?: unknown };
    } catch (e) {
      throw new TceError('TOOL_MODULE', `cannot load tool module ${abs}: ${(e as Error).message}`);
    }
    if (!isToolDef(mod.tool)) throw new TceError('TOOL_MODULE', `${abs}: must export \`tool\` with name, description, parameters (a zod object) and run()`);
    if (tools.has(mod.tool.name)) throw new TceError('TOOL_MODULE', `${abs}: tool name '${mod.tool.name}' is already defined`);
    tools.set(mod.tool.name, mod.tool);
  }
  return tools;
}

/** The OpenAI `tools` array for the named tools, in the order given. */
export function openAiTools(names: readonly string[], tools: ReadonlyMap<string, ToolDef> = BUILTIN_BY_NAME): object[] {
  return names.map((n) => {
    const def = tools.get(n);
    if (!def) throw new TceError('UNKNOWN_TOOL', `unknown tool '${n}'`, `known tools: ${[...tools.keys()].join(', ')}`);
    return openAiTool(def);
  });
}
