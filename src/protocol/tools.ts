// The plan's four statistical tools, by name, in the plan's order (the order
// of its tool-definition JSON). The tool definitions (src/tools/defs), the
// condition table, the simulator and the analysis columns all name tools
// through these constants, so a tool is renamed here or nowhere.
export const TOOL_NAMES = ['check_scene_prior', 'check_scene_action_compatibility', 'check_waypoint_feasibility', 'check_confusion_risk'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export const [CHECK_SCENE_PRIOR, CHECK_SCENE_ACTION_COMPATIBILITY, CHECK_WAYPOINT_FEASIBILITY, CHECK_CONFUSION_RISK] = TOOL_NAMES;
