// Tool 1 of the plan: how common is the predicted scene.
import { z } from 'zod';
import { CHECK_SCENE_PRIOR } from '../../protocol/tools';
import { OVER_PREDICTION, RARE_BASE_RATE, argmaxScene, frac, pct, r3, rate } from '../answer-format';
import { oracleSceneAnswer } from '../oracle-answers';
import { defineTool, type Verdict } from '../tool-def';
import { sceneArg } from './scene-enum';

export const checkScenePrior = defineTool({
  name: CHECK_SCENE_PRIOR,
  description: 'Check how common a predicted scene type is in the training data. Returns the base rate of the predicted scene and the most common scene overall. Use this to verify whether a rare prediction is plausible.',
  parameters: z.object({
    predicted_scene: sceneArg().describe('The predicted scene classification to check'),
  }),
  run({ predicted_scene: c }, t) {
    const cs = t.classes[c];
    const base = rate(cs.baseRate) ?? 0;
    const predicted = rate(cs.predictedRate) ?? 0;
    const overPrediction = base > 0 ? predicted / base : null;
    const top = argmaxScene(t.sceneGtCounts);
    const topRate = top === null ? null : t.sceneGtCounts[top] / t.samples;
    const rare = base < RARE_BASE_RATE;
    const over = overPrediction === null ? predicted > 0 : overPrediction >= OVER_PREDICTION;
    const verdict: Verdict = !rare ? 'plausible' : over ? 'implausible' : 'doubtful';
    const alternative = verdict === 'plausible' || top === c ? null : top;
    const topText = top === null || top === c ? '' : `; the most common scene is ${top} (${pct(topRate!)})`;
    const note = base === 0
      ? `${c} never occurs in the ground truth of ${t.samples} samples${topText}.`
      : !rare
        ? `${c} is ${top === c ? 'the most common scene' : 'a common scene'}: ${pct(base)} of ground truth (${frac(cs.baseRate)}).`
        : `${c} is rare: ${pct(base)} of ground truth (${frac(cs.baseRate)})${over && overPrediction !== null ? ` but ${pct(predicted)} of predictions, ${overPrediction.toFixed(1)}x over-predicted` : ''}${topText}.`;
    return {
      predicted_scene: c,
      base_rate: r3(base),
      gt_count: cs.baseRate.count,
      samples: cs.baseRate.of,
      predicted_share: r3(predicted),
      over_prediction: overPrediction === null ? null : r3(overPrediction),
      most_common_scene: top,
      most_common_rate: topRate === null ? null : r3(topRate),
      verdict,
      alternative_scene: alternative,
      note,
    };
  },
  oracle: ({ predicted_scene }, truth) => oracleSceneAnswer(predicted_scene, truth),
});
