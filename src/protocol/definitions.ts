// What the experiment's words mean, defined once for the driver (the stored
// per-sample columns) and the analysis (the reported rates), so a stored
// `was_revised` and the reported revision rate cannot disagree.
// ../shared/DESIGN.md, "Definitions": SQL NULL means *not stated*.
import { isScene } from '../domain/enums';

/** A prediction as stated: scene, longitudinal and lateral action; null = not stated. */
export interface Stated {
  scene: string | null;
  longAction: string | null;
  latAction: string | null;
}
export type PredictionField = keyof Stated;

/** Correct: the sample is labelled and the predicted scene is its label.
 * Unlabelled samples (NULL ground truth) are never correct. */
export function isCorrect(gt: string | null, pred: string | null): boolean {
  return gt !== null && isScene(gt) && pred === gt;
}

/** The stored 0/1 column; NULL when the sample has no label to be right about. */
export function correctFlag(gt: string | null, pred: string | null): 0 | 1 | null {
  return gt === null ? null : isCorrect(gt, pred) ? 1 : 0;
}

/** Scene revised: the final scene differs from the original one. */
export function isSceneRevised(original: Stated, final: Stated): boolean {
  return original.scene !== final.scene;
}

/** An action is revised only when the original stated one and the final
 * differs from it: an action that was never stated cannot be revised (e.g.
 * Pipeline B states no action before its second turn). */
function actionRevised(original: string | null, final: string | null): boolean {
  return original !== null && final !== original;
}

/** Revised: the scene is revised, or a final action differs from an
 * original action that was stated. */
export function isRevised(original: Stated, final: Stated): boolean {
  return isSceneRevised(original, final) || actionRevised(original.longAction, final.longAction) || actionRevised(original.latAction, final.latAction);
}

/** Save / break flags against a reference (the greedy baseline's scene):
 * wrong -> right, right -> wrong; NULL for an unlabelled sample. */
export function flipFlags(gt: string | null, referenceScene: string | null, finalScene: string | null): { savedFlag: 0 | 1 | null; brokenFlag: 0 | 1 | null } {
  if (gt === null) return { savedFlag: null, brokenFlag: null };
  const was = isCorrect(gt, referenceScene);
  const now = isCorrect(gt, finalScene);
  return { savedFlag: !was && now ? 1 : 0, brokenFlag: was && !now ? 1 : 0 };
}

/** Final statuses of a sample whose requests failed (the server or the
 * network, not the model): the sample has no answer. It is not a wrong
 * answer and not "the original stands": it is left out of every metric,
 * counted apart, and rerun by `tce run --resume`. */
export const FAILED_STATUSES: readonly string[] = ['server_error', 'timeout'];

export function isFailedStatus(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && FAILED_STATUSES.includes(status);
}
