// What the suite page shows per condition. Point estimates are computed
// live from predictions (one grouped, index-only query per condition), so a
// run still being written shows its progress; intervals, flips and tests
// come from the analysis tables (condition_metrics) and are shown only
// while they describe the same number of samples.
import { N_CELLS, cellCode, scoresFromCells } from '../protocol/scores';
import type { Experiment, ViewStore } from './view-store';

export interface AnalysisRow {
  n_samples: number | null;
  scene_accuracy_ci_low: number | null; scene_accuracy_ci_high: number | null;
  scene_macro_f1_ci_low: number | null; scene_macro_f1_ci_high: number | null;
  macro_f1_diff: number | null; within_noise: number | null;
  revision_accuracy: number | null; n_saves: number | null; n_breaks: number | null; net_improvement: number | null;
  mcnemar_p: number | null; p50_total_time_ms: number | null;
}

export interface SuiteRow {
  e: Experiment;
  n: number; accuracy: number; macroF1: number;
  nSceneRevised: number; failures: Array<{ status: string; n: number }>;
  /** null when the analysis has not run on these samples (or ran on fewer). */
  analysis: AnalysisRow | null;
  /** condition_metrics exists but for another sample count. */
  analysisStale: boolean;
}

interface Group { gt: string | null; f: string | null; o: string | null; s: string | null; n: number }

// Since migration 11 without a covering index (idx_predictions_view cost
// 8 MB in a default run): the long texts live in `texts`, so the rows the
// grouping reads through idx_predictions_exp are narrow (~30 ms an
// experiment of 8,613 samples on the loaded dev VM).
const GROUPED = `SELECT scene_type_gt AS gt, final_scene AS f, original_scene AS o, final_status AS s, count(*) AS n
  FROM predictions WHERE experiment_id = ? GROUP BY scene_type_gt, final_scene, original_scene, final_status`;

const ANALYSIS = `SELECT n_samples, scene_accuracy_ci_low, scene_accuracy_ci_high, scene_macro_f1_ci_low, scene_macro_f1_ci_high,
  macro_f1_diff, within_noise, revision_accuracy, n_saves, n_breaks, net_improvement, mcnemar_p, p50_total_time_ms
  FROM condition_metrics WHERE experiment_id = ?`;

export function suiteRow(store: ViewStore, e: Experiment): SuiteRow {
  const groups = store.db.prepare(GROUPED).all(e.experiment_id) as Group[];
  const cells = new Float64Array(N_CELLS);
  let nSceneRevised = 0;
  const failures = new Map<string, number>();
  for (const g of groups) {
    cells[cellCode(g.gt, g.f)]! += g.n;
    if (g.o !== g.f) nSceneRevised += g.n;
    if (g.s !== 'ok') failures.set(g.s ?? 'unknown', (failures.get(g.s ?? 'unknown') ?? 0) + g.n);
  }
  const sc = scoresFromCells(cells);
  const a = (store.db.prepare(ANALYSIS).get(e.experiment_id) as AnalysisRow | undefined) ?? null;
  const current = a !== null && a.n_samples === sc.n;
  return {
    e, n: sc.n, accuracy: sc.accuracy, macroF1: sc.macroF1, nSceneRevised,
    failures: [...failures].map(([status, n]) => ({ status, n })).sort((x, y) => y.n - x.n),
    analysis: current ? a : null, analysisStale: a !== null && !current,
  };
}

export interface Suite { rows: SuiteRow[]; synthetic: boolean; backends: string[]; decision: { outcome: number | null; title: string | null; recommendation: string | null } | null }

export function suite(store: ViewStore): Suite {
  const es = store.conditions();
  const d = store.db.prepare('SELECT outcome, outcome_title AS title, recommendation FROM analysis_decision WHERE id = 1').get() as Suite['decision'] | undefined;
  return {
    rows: es.map((e) => suiteRow(store, e)),
    synthetic: es.some((e) => e.synthetic === 1),
    backends: [...new Set(es.map((e) => e.backend ?? 'unknown'))].sort(),
    decision: d ?? null,
  };
}
