// The oracle condition's answers: same tools, same arguments, but the
// response comes from the calling sample's ground truth, bound when the
// call runs (never shown in the prompt).
import type { Scene } from '../domain/enums';
import type { ToolAnswer, Verdict } from './tool-def';
import type { OracleTruth } from './types';

/** Scene part shared by every oracle answer. */
export function oracleScene(predicted: Scene, truth: OracleTruth): { is_correct: boolean | null; true_scene: Scene | null; alternative_scene: Scene | null } {
  if (truth.scene === null) return { is_correct: null, true_scene: null, alternative_scene: null };
  const ok = predicted === truth.scene;
  return { is_correct: ok, true_scene: truth.scene, alternative_scene: ok ? null : truth.scene };
}

/** check_scene_prior and check_confusion_risk answer the same question
 * under the oracle: is the predicted scene the true one. */
export function oracleSceneAnswer(predicted: Scene, truth: OracleTruth): ToolAnswer {
  const s = oracleScene(predicted, truth);
  const verdict: Verdict = s.is_correct === null ? 'doubtful' : s.is_correct ? 'plausible' : 'implausible';
  const note = s.is_correct === null
    ? 'This sample has no ground-truth scene label, so the oracle cannot confirm the prediction.'
    : s.is_correct ? `Ground truth confirms the scene is ${predicted}.` : `Ground truth: the scene is ${s.true_scene}, not ${predicted}.`;
  return { predicted_scene: predicted, is_correct: s.is_correct, true_scene: s.true_scene, verdict, alternative_scene: s.alternative_scene, note };
}
