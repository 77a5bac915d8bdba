// The label spaces of the SceneIQ task. Order matters: it is the order used
// in confusion matrices, reports and tool enums (the plan's tool order).
export const SCENES = ['nominal', 'flooded', 'incident_zone', 'mounted_police', 'flagger'] as const;
export type Scene = (typeof SCENES)[number];

export const LONG_ACTIONS = ['stop', 'slowdown', 'proceed', 'null'] as const;
export type LongAction = (typeof LONG_ACTIONS)[number];

export const LAT_ACTIONS = ['lc_left', 'lc_right', 'null'] as const;
export type LatAction = (typeof LAT_ACTIONS)[number];

export const VERIFIER_SIZES = ['2b', '8b'] as const;
export type VerifierSize = (typeof VERIFIER_SIZES)[number];

export function isScene(v: unknown): v is Scene {
  return typeof v === 'string' && (SCENES as readonly string[]).includes(v);
}
export function isLongAction(v: unknown): v is LongAction {
  return typeof v === 'string' && (LONG_ACTIONS as readonly string[]).includes(v);
}
export function isLatAction(v: unknown): v is LatAction {
  return typeof v === 'string' && (LAT_ACTIONS as readonly string[]).includes(v);
}
