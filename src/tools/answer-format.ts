// Shared wording and thresholds of tool answers. The thresholds turn
// statistics into the verdict the verifier (and the simulator's verifier
// models) act on; they are named here so docs/tools.md and the tests can
// point at one place.
import { SCENES, type Scene } from '../domain/enums';
import type { Ratio } from './stats-schema';

/** A GT share below this makes a scene "rare" for check_scene_prior. */
export const RARE_BASE_RATE = 0.1;
/** Predicted share / GT share at or above this makes a scene "over-predicted". */
export const OVER_PREDICTION = 2;
/** P(gt != pred | pred) at or above these makes a prediction doubtful / implausible. */
export const CONFUSION_DOUBTFUL = 0.25;
export const CONFUSION_IMPLAUSIBLE = 0.5;
/** A scene-action combination seen in fewer than this share of the scene's samples is doubtful. */
export const RARE_COMBINATION = 0.05;
/** Fewer first waypoints than this for a (scene, long_action) cannot support percentiles. */
export const MIN_WAYPOINT_SAMPLES = 5;
/** Oracle waypoint error (metres, Euclidean) for plausible / doubtful. */
export const ORACLE_WAYPOINT_OK_M = 1;
export const ORACLE_WAYPOINT_DOUBTFUL_M = 3;

/** Three decimals: enough for a model to read, short in the prompt. */
export function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function rate(r: Ratio): number | null {
  return r.of === 0 ? null : r.count / r.of;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function frac(r: Ratio): string {
  return `${r.count}/${r.of}`;
}

/** The scene with the largest count; ties go to the plan's enum order. */
export function argmaxScene(counts: Record<Scene, number>, exclude?: Scene): Scene | null {
  let best: Scene | null = null;
  for (const s of SCENES) if (s !== exclude && counts[s] > 0 && (best === null || counts[s] > counts[best])) best = s;
  return best;
}
