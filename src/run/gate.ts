// Applies the oracle gate (protocol/gate.ts) to the oracle experiments' run
// directories, before the other conditions run. A failed sample (server
// error, timeout) is no answer: it is left out of the oracle's macro-F1, and
// an oracle with more than run.maxFailedShare failed samples cannot judge
// the gate at all. Otherwise a dead engine would read as a low ceiling and
// stop the suite with "retrain" (issue 14, W1).
import { readRunPredictions } from '../store/run-reader';
import { sceneMacroF1 } from '../protocol/scores';
import { gatePasses } from '../protocol/gate';
import { isFailedStatus } from '../protocol/definitions';

export interface GateDecision {
  threshold: number;
  oracles: Array<{ experimentId: string; macroF1: number; samples: number; failed: number }>;
  proceed: boolean;
  forced: boolean;
  /** false: an oracle failed (too many samples without an answer), so the
   * gate was not applied and the suite went on; the analysis judges it
   * once the failed samples are rerun. */
  judged: boolean;
  summary: string;
}

/** One oracle's answered samples (a retry's answer supersedes the failed
 * attempt kept beside it in the run folder) and its failed ones. */
function oracleScore(dir: string): GateDecision['oracles'][number] {
  const run = readRunPredictions(dir);
  const c = run.predictions.columns;
  const answered = new Map<number, { gt: string | null; pred: string | null }>();
  const failed = new Set<number>();
  for (let i = 0; i < run.predictions.length; i++) {
    const sid = Number(c.sample_id[i]);
    if (!isFailedStatus(c.final_status[i])) {
      answered.set(sid, { gt: c.scene_type_gt[i] ?? null, pred: c.final_scene[i] ?? null });
      failed.delete(sid);
    } else if (!answered.has(sid)) {
      failed.add(sid);
    }
  }
  const rows = [...answered.values()];
  return { experimentId: run.experiment.experiment_id, macroF1: sceneMacroF1(rows.map((r) => r.gt), rows.map((r) => r.pred)), samples: rows.length, failed: failed.size };
}

export function decideGate(oracleDirs: string[], threshold: number, force: boolean, maxFailedShare: number): GateDecision {
  const oracles = oracleDirs.map(oracleScore);
  const sick = oracles.filter((x) => x.failed > 0 && x.failed / (x.samples + x.failed) > maxFailedShare);
  if (sick.length) {
    const which = sick.map((x) => `${x.experimentId}: ${x.failed} of ${x.samples + x.failed} samples failed`).join(', ');
    return { threshold, oracles, proceed: true, forced: false, judged: false, summary: `oracle gate: NOT JUDGED (${which}; more than run.maxFailedShare ${maxFailedShare}) - running the other conditions; rerun the failed samples with \`tce run --resume\`` };
  }
  const best = Math.max(...oracles.map((x) => x.macroF1));
  const pass = gatePasses(oracles.map((x) => x.macroF1), threshold);
  const proceed = pass || force;
  const list = oracles.map((x) => `${x.experimentId} F1 ${x.macroF1.toFixed(4)}${x.failed ? ` (${x.failed} failed samples left out)` : ''}`).join(', ');
  const summary = pass
    ? `oracle gate: PROCEED (${list}; best ${best.toFixed(4)} >= ${threshold})`
    : force
      ? `oracle gate: both below ${threshold} (${list}) — proceeding because of --force`
      : `oracle gate: STOP (${list}; both below ${threshold}). The verifier cannot self-correct even with perfect information; rerun with --force to run the other conditions anyway.`;
  return { threshold, oracles, proceed, forced: force && !pass, judged: true, summary };
}
