// High-level actions from waypoints with the plan's HLA thresholds
// (waypoint_hla.py: stop_speed 0.3 m/s, hard_decel -1.5 m/s^2, slow_decel
// -0.5 m/s^2, proceed_accel 0.5 m/s^2, lane_width 0.2 m). Waypoints are
// per-step [x, y] deltas in metres (x forward, y to the left), WAYPOINT_DT
// seconds apart. The fixture's kinematic model is built so that this
// derivation returns the ground-truth action for every GT trajectory.
import type { LatAction, LongAction } from '../domain/enums';

export const HLA_THRESHOLDS = { stopSpeed: 0.3, hardDecel: -1.5, slowDecel: -0.5, proceedAccel: 0.5, laneWidth: 0.2 } as const;
export const WAYPOINT_DT = 0.5;
export const WAYPOINT_COUNT = 10;

export type Waypoints = Array<[number, number]>;

/** Mean speed of each step, the acceleration between the first and last
 * step, and the total lateral offset; then the thresholds in the plan's
 * priority order (stop before slowdown before proceed). */
export function deriveHla(wps: Waypoints, dt = WAYPOINT_DT): { longAction: LongAction; latAction: LatAction; accel: number; finalSpeed: number; lateral: number } {
  if (wps.length < 2) throw new RangeError('deriveHla needs at least two waypoints');
  const v0 = wps[0]![0] / dt;
  const vEnd = wps[wps.length - 1]![0] / dt;
  const accel = (vEnd - v0) / ((wps.length - 1) * dt);
  const lateral = wps.reduce((a, w) => a + w[1], 0);
  const t = HLA_THRESHOLDS;
  const longAction: LongAction = vEnd < t.stopSpeed || accel <= t.hardDecel ? 'stop' : accel <= t.slowDecel ? 'slowdown' : accel >= t.proceedAccel ? 'proceed' : 'null';
  const latAction: LatAction = lateral > t.laneWidth ? 'lc_left' : lateral < -t.laneWidth ? 'lc_right' : 'null';
  return { longAction, latAction, accel, finalSpeed: vEnd, lateral };
}
