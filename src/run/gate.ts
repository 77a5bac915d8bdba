// Applies the oracle gate (protocol/gate.ts) to the oracle experiments' run
// directories, before the other conditions run.
import { readRunDir } from '../store/run-reader';
import { sceneMacroF1 } from '../protocol/scores';
import { gatePasses } from '../protocol/gate';

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
    const pred = Array.from(p.columns.final_scene);
    const gt = Array.from(p.columns.scene_type_gt);
    return { experimentId: run.experiment.experiment_id, macroF1: sceneMacroF1(gt, pred), samples: p.length };
  });
  const best = Math.max(...oracles.map((x) => x.macroF1));
  const pass = gatePasses(oracles.map((x) => x.macroF1), threshold);
  const proceed = pass || force;
  const list = oracles.map((x) => `${x.experimentId} F1 ${x.macroF1.toFixed(4)}`).join(', ');
  const summary = pass
    ? `oracle gate: PROCEED (${list}; best ${best.toFixed(4)} >= ${threshold})`
    : force
      ? `oracle gate: both below ${threshold} (${list}) — proceeding because of --force`
      : `oracle gate: STOP (${list}; both below ${threshold}). The verifier cannot self-correct even with perfect information; rerun with --force to run the other conditions anyway.`;
  return { threshold, oracles, proceed, forced: force && !pass, summary };
}
