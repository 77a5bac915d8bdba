// Tool 4 of the plan: is the predicted scene often confused with another.
// Reports both directions: P(gt != pred | pred), what a verifier of this
// prediction needs, and P(pred | gt) for the class it is confused with (the
// plan's "error_rate", e.g. 50.6% of nominal scenes predicted incident_zone).
import { z } from 'zod';
import { CHECK_CONFUSION_RISK } from '../../protocol/tools';
import { CONFUSION_DOUBTFUL, CONFUSION_IMPLAUSIBLE, frac, pct, r3, rate } from '../answer-format';
import { oracleSceneAnswer } from '../oracle-answers';
import { defineTool, type Verdict } from '../tool-def';
import { sceneArg } from './scene-enum';

export const checkConfusionRisk = defineTool({
  name: CHECK_CONFUSION_RISK,
  description: 'Check whether a predicted scene type is commonly confused with another class. Returns the historical confusion rate and what class it is most often confused with. High-risk predictions should be double-checked carefully.',
  parameters: z.object({
    predicted_scene: sceneArg(),
  }),
  run({ predicted_scene: c }, t) {
    const cs = t.classes[c];
    const predictedN = cs.precision.of;
    const wrong = { count: predictedN - cs.precision.count, of: predictedN };
    const pWrong = rate(wrong);
    const tw = cs.mostLikelyTrueWhenWrong;
    const reverse = tw === null ? null : { count: t.confusion[tw.scene][c], of: t.classes[tw.scene].recall.of };
    const missed = cs.mostOftenMistakenFor;
    const verdict: Verdict = pWrong === null ? 'doubtful' : pWrong >= CONFUSION_IMPLAUSIBLE ? 'implausible' : pWrong >= CONFUSION_DOUBTFUL ? 'doubtful' : 'plausible';
    let note: string;
    if (pWrong === null) note = `${c} was never predicted on a labelled sample, so its confusion risk is unknown.`;
    else {
      note = `${pct(pWrong)} of ${c} predictions are wrong (${frac(wrong)})`;
      if (tw && reverse) note += `; most often the true scene is ${tw.scene} (${pct(tw.count / tw.of)}), and ${pct(rate(reverse) ?? 0)} of ${tw.scene} scenes are predicted as ${c}`;
      note += verdict === 'plausible' ? '. Low risk.' : verdict === 'doubtful' ? '. Double-check the image.' : `. High risk: keep ${c} only with clear visual evidence.`;
    }
    return {
      predicted_scene: c,
      p_wrong_given_pred: pWrong === null ? null : r3(pWrong),
      wrong_given_pred: [wrong.count, wrong.of],
      confused_with: tw?.scene ?? null,
      p_confused_with_given_pred: tw ? r3(tw.count / tw.of) : null,
      p_pred_given_confused_with: reverse && reverse.of > 0 ? r3(reverse.count / reverse.of) : null,
      pred_given_confused_with: reverse ? [reverse.count, reverse.of] : null,
      true_scene_missed_as: missed?.scene ?? null,
      p_true_scene_missed_as: missed ? r3(missed.count / missed.of) : null,
      verdict,
      alternative_scene: verdict === 'plausible' ? null : (tw?.scene ?? null),
      note,
    };
  },
  oracle: ({ predicted_scene }, truth) => oracleSceneAnswer(predicted_scene, truth),
});
