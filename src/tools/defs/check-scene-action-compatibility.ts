// Tool 2 of the plan: has this (long, lat) action pair been seen with this
// scene in the ground truth, and what is typical for the scene.
import { z } from 'zod';
import { CHECK_SCENE_ACTION_COMPATIBILITY } from '../../protocol/tools';
import { SCENES, type Scene } from '../../domain/enums';
import { RARE_COMBINATION, pct, r3 } from '../answer-format';
import { oracleScene } from '../oracle-answers';
import { defineTool, type Verdict } from '../tool-def';
import { latActionArg, longActionArg, sceneArg } from './scene-enum';

export const checkSceneActionCompatibility = defineTool({
  name: CHECK_SCENE_ACTION_COMPATIBILITY,
  description: 'Check whether a predicted action is compatible with a predicted scene type based on historical co-occurrence data. Returns whether this combination has been observed and what actions are typical for this scene.',
  parameters: z.object({
    scene: sceneArg(),
    long_action: longActionArg().describe('Longitudinal action prediction'),
    lat_action: latActionArg().describe('Lateral action prediction'),
  }),
  run({ scene, long_action, lat_action }, t) {
    const rows = t.cooccurrence[scene];
    const total = rows.reduce((s, r) => s + r.count, 0);
    const count = rows.find((r) => r.longAction === long_action && r.latAction === lat_action)?.count ?? 0;
    const share = total > 0 ? count / total : null;
    const verdict: Verdict = share === null ? 'doubtful' : count === 0 ? 'implausible' : share < RARE_COMBINATION ? 'doubtful' : 'plausible';
    // The scene this action pair points to: where it is seen most often.
    let alternative: Scene | null = null;
    let altCount = 0;
    if (verdict !== 'plausible') {
      for (const s of SCENES) {
        if (s === scene) continue;
        const n = t.cooccurrence[s].find((r) => r.longAction === long_action && r.latAction === lat_action)?.count ?? 0;
        if (n > altCount) { alternative = s; altCount = n; }
      }
    }
    const typical = rows.slice(0, 3).map((r) => ({ long_action: r.longAction, lat_action: r.latAction, share: r3(r.count / total) }));
    const pair = `(${long_action}, ${lat_action})`;
    let note = share === null
      ? `No labelled ${scene} samples in the data, so compatibility is unknown.`
      : count === 0 ? `${pair} was never observed with ${scene} in ${total} samples`
      : `${pair} occurs in ${pct(share)} of ${scene} samples (${count}/${total})`;
    if (share !== null) {
      note += `; typical for ${scene}: ${typical.map((r) => `${r.long_action}/${r.lat_action} ${pct(r.share)}`).join(', ')}`;
      note += alternative ? `; this action pair is most common with ${alternative}.` : '.';
    }
    return {
      scene, long_action, lat_action,
      observed: count > 0,
      count,
      scene_total: total,
      share: share === null ? null : r3(share),
      typical_actions: typical,
      verdict,
      alternative_scene: alternative,
      note,
    };
  },
  oracle({ scene, long_action, lat_action }, truth) {
    const s = oracleScene(scene, truth);
    const longOk = truth.longAction === null ? null : long_action === truth.longAction;
    const latOk = truth.latAction === null ? null : lat_action === truth.latAction;
    const checks = [s.is_correct, longOk, latOk];
    const verdict: Verdict = checks.includes(false) ? 'implausible' : checks.includes(null) ? 'doubtful' : 'plausible';
    const wrong = [s.is_correct === false && `scene is ${truth.scene}`, longOk === false && `long_action is ${truth.longAction}`, latOk === false && `lat_action is ${truth.latAction}`].filter(Boolean);
    const note = verdict === 'plausible' ? 'Ground truth confirms the scene and both actions.'
      : wrong.length ? `Ground truth: ${wrong.join(', ')}.` : 'Part of the ground truth is missing for this sample; only the known fields were checked.';
    return {
      scene, long_action, lat_action,
      scene_correct: s.is_correct, long_action_correct: longOk, lat_action_correct: latOk,
      true_scene: truth.scene, true_long_action: truth.longAction, true_lat_action: truth.latAction,
      verdict, alternative_scene: s.alternative_scene, note,
    };
  },
});
