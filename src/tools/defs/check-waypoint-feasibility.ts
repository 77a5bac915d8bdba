// Tool 3 of the plan: is the first waypoint within the range seen for this
// (scene, long_action) in the ground truth.
import { z } from 'zod';
import { CHECK_WAYPOINT_FEASIBILITY } from '../../protocol/tools';
import { SCENES, type Scene } from '../../domain/enums';
import { MIN_WAYPOINT_SAMPLES, ORACLE_WAYPOINT_DOUBTFUL_M, ORACLE_WAYPOINT_OK_M, r3 } from '../answer-format';
import { oracleScene } from '../oracle-answers';
import type { Summary } from '../stats-schema';
import { defineTool, type Verdict } from '../tool-def';
import { longActionArg, sceneArg } from './scene-enum';

type Position = 'typical' | 'unusual' | 'outside';

function position(v: number, s: Summary): Position {
  if (v >= s.p5 && v <= s.p95) return 'typical';
  if (v >= s.p1 && v <= s.p99) return 'unusual';
  return 'outside';
}

export const checkWaypointFeasibility = defineTool({
  name: CHECK_WAYPOINT_FEASIBILITY,
  description: 'Check whether predicted waypoint deltas are within the typical range for a given scene-action combination. Returns feasibility assessment and typical waypoint statistics.',
  parameters: z.object({
    scene: sceneArg(),
    long_action: longActionArg(),
    first_waypoint_x: z.number().describe('First waypoint x-delta'),
    first_waypoint_y: z.number().describe('First waypoint y-delta'),
  }),
  run({ scene, long_action, first_waypoint_x: x, first_waypoint_y: y }, t) {
    const w = t.waypoints.find((e) => e.scene === scene && e.longAction === long_action);
    const head = { scene, long_action, first_waypoint_x: x, first_waypoint_y: y };
    if (!w || w.count < MIN_WAYPOINT_SAMPLES) {
      return {
        ...head, feasible: null, samples: w?.count ?? 0, verdict: 'doubtful', alternative_scene: null,
        note: `Only ${w?.count ?? 0} ground-truth samples have scene ${scene} with long_action ${long_action}; too few to judge the waypoint.`,
      };
    }
    const px = position(x, w.x);
    const py = position(y, w.y);
    const verdict: Verdict = px === 'outside' || py === 'outside' ? 'implausible' : px === 'typical' && py === 'typical' ? 'plausible' : 'doubtful';
    // Another scene with the same long_action whose typical box holds the point.
    let alternative: Scene | null = null;
    let altCount = 0;
    if (verdict !== 'plausible') {
      for (const s of SCENES) {
        const o = t.waypoints.find((e) => e.scene === s && e.longAction === long_action);
        if (s !== scene && o && o.count >= MIN_WAYPOINT_SAMPLES && o.count > altCount && position(x, o.x) === 'typical' && position(y, o.y) === 'typical') { alternative = s; altCount = o.count; }
      }
    }
    const range = (s: Summary) => `${r3(s.p5)}..${r3(s.p95)}`;
    const note = `For ${scene}/${long_action} (${w.count} samples) the first waypoint is typically x ${range(w.x)}, y ${range(w.y)} (p5..p95); x is ${px}, y is ${py}${alternative ? `; the point is typical for ${alternative}` : ''}.`;
    const brief = (s: Summary) => ({ p1: r3(s.p1), p5: r3(s.p5), p50: r3(s.p50), p95: r3(s.p95), p99: r3(s.p99) });
    return {
      ...head,
      feasible: verdict !== 'implausible',
      x_position: px, y_position: py,
      typical_x: brief(w.x), typical_y: brief(w.y),
      samples: w.count,
      verdict,
      alternative_scene: alternative,
      note,
    };
  },
  oracle({ scene, long_action, first_waypoint_x: x, first_waypoint_y: y }, truth) {
    const s = oracleScene(scene, truth);
    const wp = truth.firstWaypoint;
    const error = wp === null ? null : Math.hypot(x - wp[0], y - wp[1]);
    const verdict: Verdict = error === null ? 'doubtful' : error <= ORACLE_WAYPOINT_OK_M ? 'plausible' : error <= ORACLE_WAYPOINT_DOUBTFUL_M ? 'doubtful' : 'implausible';
    const note = wp === null || error === null ? 'This sample has no ground-truth waypoints.'
      : `Ground-truth first waypoint is (${r3(wp[0])}, ${r3(wp[1])}); the prediction is ${r3(error)} m away.${s.is_correct === false ? ` The true scene is ${truth.scene}.` : ''}`;
    return {
      scene, long_action, first_waypoint_x: x, first_waypoint_y: y,
      true_first_waypoint: wp === null ? null : [r3(wp[0]), r3(wp[1])],
      error_m: error === null ? null : r3(error),
      long_action_correct: truth.longAction === null ? null : long_action === truth.longAction,
      scene_correct: s.is_correct, true_scene: s.true_scene,
      verdict, alternative_scene: s.alternative_scene, note,
    };
  },
});
