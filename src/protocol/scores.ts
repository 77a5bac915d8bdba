// Scene scoring as the plan defines it (../shared/DESIGN.md, "Definitions"):
// every sample is one cell of a 6x6 confusion matrix, and accuracy and
// macro-F1 come from the cell counts. The driver's oracle gate and the
// analysis (point estimates and bootstrap workers) both score with this.
import { SCENES } from '../domain/enums';

/** Scene classes in matrix order; index SCENES.length is "other": an
 * unlabelled ground truth (row) or an unparseable prediction (column). */
export const N_CLASSES = SCENES.length;
export const OTHER = N_CLASSES;
export const N_CELLS = (N_CLASSES + 1) * (N_CLASSES + 1);

export function sceneIndex(v: string | null | undefined): number {
  const i = v == null ? -1 : (SCENES as readonly string[]).indexOf(v);
  return i < 0 ? OTHER : i;
}

/** One confusion cell per sample: gt * 6 + pred. */
export function cellCode(gt: string | null, pred: string | null): number {
  return sceneIndex(gt) * (N_CLASSES + 1) + sceneIndex(pred);
}

/** Accuracy over all samples and macro-F1 over the five classes from a
 * 6x6 cell-count array. Unlabelled samples can never be correct, and a
 * prediction of class c for one counts against c's precision: this is
 * sklearn's f1_score(labels=SCENES, average='macro') with NULL ground
 * truth kept, which is what reproduces the plan's published 0.4871. */
export function scoresFromCells(cells: ArrayLike<number>, offset = 0): { n: number; correct: number; accuracy: number; macroF1: number } {
  const w = N_CLASSES + 1;
  let n = 0;
  let correct = 0;
  let f1sum = 0;
  for (let k = 0; k < N_CELLS; k++) n += cells[offset + k]!;
  for (let c = 0; c < N_CLASSES; c++) {
    const tp = cells[offset + c * w + c]!;
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < w; j++) {
      support += cells[offset + c * w + j]!;
      predicted += cells[offset + j * w + c]!;
    }
    correct += tp;
    // F1 = 2tp / (support + predicted); zero when the class is absent both ways.
    f1sum += support + predicted === 0 ? 0 : (2 * tp) / (support + predicted);
  }
  return { n, correct, accuracy: n === 0 ? NaN : correct / n, macroF1: f1sum / N_CLASSES };
}

/** Scene macro-F1 of paired ground truth and predictions. */
export function sceneMacroF1(gt: ArrayLike<string | null>, pred: ArrayLike<string | null>): number {
  const cells = new Float64Array(N_CELLS);
  for (let i = 0; i < gt.length; i++) cells[cellCode(gt[i] ?? null, pred[i] ?? null)]!++;
  return scoresFromCells(cells).macroF1;
}
