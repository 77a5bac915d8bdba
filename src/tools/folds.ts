// K-fold assignment for cross-fitted tool statistics. Stratified by GT scene
// so each fold's complement keeps every rare class; seeded so the same input
// and seed give the same folds (and the same tool_stats.json bytes).
import { SCENES } from '../domain/enums';
import type { Sample } from '../domain/sample';
import { Rng } from '../util/rng';

export interface FoldAssignment {
  /** Ascending sample ids. */
  sampleIds: number[];
  /** folds[i] is the fold of sampleIds[i]. */
  folds: number[];
}

export function assignFolds(samples: readonly Sample[], k: number, seed: number): FoldAssignment {
  const rng = new Rng(seed, 'tool-stats-folds');
  const groups = new Map<string, number[]>();
  for (const s of samples) {
    const key = s.sceneGt ?? '(unlabelled)';
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(s.sampleId);
  }
  const foldById = new Map<number, number>();
  let offset = 0;
  for (const key of [...SCENES, '(unlabelled)']) {
    const ids = (groups.get(key) ?? []).sort((a, b) => a - b);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    // Continue the round-robin across groups so fold sizes differ by at most one.
    ids.forEach((id, i) => foldById.set(id, (offset + i) % k));
    offset = (offset + ids.length) % k;
  }
  const sampleIds = [...foldById.keys()].sort((a, b) => a - b);
  return { sampleIds, folds: sampleIds.map((id) => foldById.get(id)!) };
}
