// The oracle gate (plan, Phase 0): if even perfect tool information cannot
// lift the verifier's scene macro-F1 to the threshold with either verifier
// size, the full experiment is not worth its compute.
import { readRunDir } from '../store/run-reader';
import { N_CELLS, cellCode, scoresFromCells } from '../analysis/metrics';

export interface GateDecision {
  threshold: number;
  oracles: Array<{ experimentId: string; macroF1: number; samples: number }>;
  proceed: boolean;
  forced: boolean;
  summary: string;
}

export function decideGate(oracleDirs: string[], threshold: number, force: boolean): GateDecision {
  const oracles = oracleDirs.map((dir) => {
    const run = readRunDir(dir);
    const p = run.tables.predictions;
    const pred = Array.from(p.columns['final_scene'] as ArrayLike<string | null>);
    const gt = Array.from(p.columns['scene_type_gt'] as ArrayLike<string | null>);
    const cells = new Float64Array(N_CELLS);
    for (let i = 0; i < p.length; i++) cells[cellCode(gt[i] ?? null, pred[i] ?? null)]!++;
    return { experimentId: String(run.experiment['experiment_id']), macroF1: scoresFromCells(cells).macroF1, samples: p.length };
  });
  const best = Math.max(...oracles.map((x) => x.macroF1));
  const pass = best >= threshold;
  const proceed = pass || force;
  const list = oracles.map((x) => `${x.experimentId} F1 ${x.macroF1.toFixed(4)}`).join(', ');
  const summary = pass
    ? `oracle gate: PROCEED (${list}; best ${best.toFixed(4)} >= ${threshold})`
    : force
      ? `oracle gate: both below ${threshold} (${list}) — proceeding because of --force`
      : `oracle gate: STOP (${list}; both below ${threshold}). The verifier cannot self-correct even with perfect information; rerun with --force to run the other conditions anyway.`;
  return { threshold, oracles, proceed, forced: force && !pass, summary };
}
