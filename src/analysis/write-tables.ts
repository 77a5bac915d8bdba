// Stores an AnalysisResult: the plan's condition_metrics columns (plus the
// analysis columns of migration 3) and the breakdown tables. Re-running
// replaces the rows of the analysed experiments, so it is idempotent.
import type { DB } from '../store/db';
import { CONFUSION_COLS, CONFUSION_ROWS, N_CLASSES } from './metrics';
import { PLAN_TOOLS } from './condition';
import type { AnalysisResult, ConditionResult } from './types';
import type { Distribution } from './metrics';

const num = (x: number | null | undefined): number | null => (x != null && Number.isFinite(x) ? x : null);

function conditionRow(c: ConditionResult, r: AnalysisResult): Record<string, unknown> {
  const row: Record<string, unknown> = {
    experiment_id: c.experimentId, condition_name: c.conditionName, verifier_size: c.verifierSize, pipeline: c.pipeline,
    scene_accuracy: num(c.accuracy), scene_macro_f1: num(c.macroF1),
    n_revised: c.nRevised, revision_rate: num(c.revisionRate), revision_accuracy: num(c.revisionAccuracy),
    n_saves: c.saves, n_breaks: c.breaks, net_improvement: c.net,
    mean_predict_time_ms: num(c.latency.predictMs.mean), mean_verify_time_ms: num(c.latency.verifyMs.mean),
    mean_total_time_ms: num(c.latency.sampleMs.mean), p95_total_time_ms: num(c.latency.sampleMs.p95),
    n_samples: c.n, n_labelled: c.nLabelled, n_unlabelled: c.nUnlabelled, n_unparseable: c.nUnparseable, n_correct: c.correct,
    scene_accuracy_labelled: num(c.accuracyLabelled),
    scene_accuracy_ci_low: num(c.stats?.accuracy.lo), scene_accuracy_ci_high: num(c.stats?.accuracy.hi),
    scene_macro_f1_ci_low: num(c.stats?.macroF1.lo), scene_macro_f1_ci_high: num(c.stats?.macroF1.hi),
    accuracy_diff: num(c.accuracy - (baselineOf(r)?.accuracy ?? NaN)),
    accuracy_diff_ci_low: num(c.stats?.accuracyDiff.lo), accuracy_diff_ci_high: num(c.stats?.accuracyDiff.hi),
    macro_f1_diff: num(c.macroF1 - (baselineOf(r)?.macroF1 ?? NaN)),
    macro_f1_diff_ci_low: num(c.stats?.macroF1Diff.lo), macro_f1_diff_ci_high: num(c.stats?.macroF1Diff.hi),
    within_noise: c.stats ? (c.stats.withinNoise ? 1 : 0) : null,
    mcnemar_p: num(c.mcnemarP), flip_reference: c.flipReference, n_scene_revised: c.nSceneRevised,
    long_action_accuracy: num(c.actions.longAccuracy), lat_action_accuracy: num(c.actions.latAccuracy), action_accuracy: num(c.actions.jointAccuracy),
    tool_calls_total: c.validity.calls, tool_calls_parsed: c.validity.parsed, tool_calls_known_tool: c.validity.knownTool,
    tool_calls_required_args: c.validity.requiredArgsPresent, tool_calls_schema_valid: c.validity.schemaValid,
    tool_calls_executed_ok: c.validity.executedOk, tool_calls_valid: c.validity.valid,
    n_warned_samples: c.warnedSamples, n_warned_revised: c.warnedRevised,
    p50_total_time_ms: num(c.latency.sampleMs.p50), p99_total_time_ms: num(c.latency.sampleMs.p99),
    mean_ttft_ms: num(c.latency.ttftMs.mean), p95_ttft_ms: num(c.latency.ttftMs.p95), share_total_under_5s: num(c.latency.sampleMs.shareUnder5s),
    throughput_samples_per_s: num(c.latency.throughputSamplesPerS),
    bootstrap_resamples: r.bootstrap.resamples, bootstrap_seed: r.bootstrap.seed,
  };
  for (const t of PLAN_TOOLS) {
    const m = c.tools.find((x) => x.tool === t.name);
    row[`${t.column}_call_count`] = m?.calls ?? 0;
    row[`${t.column}_revision_rate`] = num(m?.pReviseGivenTool);
  }
  return row;
}

function baselineOf(r: AnalysisResult): ConditionResult | undefined {
  return r.conditions.find((c) => c.experimentId === r.baselineId);
}

function insert(db: DB, table: string, row: Record<string, unknown>): void {
  const cols = Object.keys(row);
  db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((k) => `@${k}`).join(', ')})`).run(row);
}

export function writeConditionMetrics(db: DB, r: AnalysisResult): void {
  const perExperiment = ['condition_metrics', 'condition_class_metrics', 'condition_confusion', 'condition_tool_metrics', 'condition_latency', 'condition_status_counts'];
  db.transaction(() => {
    for (const c of r.conditions) {
      for (const t of perExperiment) db.prepare(`DELETE FROM ${t} WHERE experiment_id = ?`).run(c.experimentId);
      insert(db, 'condition_metrics', conditionRow(c, r));
      const cls = db.prepare(`INSERT INTO condition_class_metrics (experiment_id, breakdown, class_name, n, n_correct, accuracy, n_predicted, precision, recall, f1, baseline_correct, n_saves, n_breaks)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const p of c.perClass) cls.run(c.experimentId, 'scene', p.scene, p.support, p.tp, num(p.recall), p.predicted, num(p.precision), num(p.recall), num(p.f1), null, null, null);
      for (const f of c.fineClass) cls.run(c.experimentId, 'fine_class', f.fineClass, f.n, f.correct, num(f.accuracy), null, null, null, null, f.baselineCorrect, f.saves, f.breaks);
      const conf = db.prepare(`INSERT INTO condition_confusion (experiment_id, gt_scene, pred_scene, count) VALUES (?, ?, ?, ?)`);
      for (let g = 0; g <= N_CLASSES; g++) for (let p = 0; p <= N_CLASSES; p++) conf.run(c.experimentId, CONFUSION_ROWS[g], CONFUSION_COLS[p], c.confusion[g]![p]!);
      const tool = db.prepare(`INSERT INTO condition_tool_metrics (experiment_id, tool_name, n_calls, n_samples_called, p_revise_given_tool, mean_revised_after, n_warnings, n_warned_samples_ignored) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const t of c.tools) tool.run(c.experimentId, t.tool, t.calls, t.samplesCalled, num(t.pReviseGivenTool), num(t.meanRevisedAfter), t.warnings, t.warningsIgnored);
      const lat = db.prepare(`INSERT INTO condition_latency (experiment_id, measure, n, mean, p10, p25, p40, p50, p95, p99, share_under_5s, max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const [measure, d] of Object.entries(c.latency)) {
        if (typeof d !== 'object' || d === null) continue;
        const x = d as Distribution;
        lat.run(c.experimentId, measure, x.n, num(x.mean), num(x.p10), num(x.p25), num(x.p40), num(x.p50), num(x.p95), num(x.p99), num(x.shareUnder5s), num(x.max));
      }
      const st = db.prepare(`INSERT INTO condition_status_counts (experiment_id, kind, status, count) VALUES (?, ?, ?, ?)`);
      for (const [s, n] of Object.entries(c.finalStatus)) st.run(c.experimentId, 'final_status', s, n);
      for (const [s, n] of Object.entries(c.validity.callStatus)) st.run(c.experimentId, 'call_status', s, n);
    }
    db.prepare('DELETE FROM size_comparison').run();
    for (const s of r.sizeComparison) {
      db.prepare(`INSERT INTO size_comparison VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(s.conditionName, s.id2b, s.id8b, num(s.macroF1_2b), num(s.macroF1_8b), num(s.macroF1Diff),
        num(s.macroF1DiffCi?.lo), num(s.macroF1DiffCi?.hi), s.only8bRight, s.only2bRight, num(s.mcnemarP), s.significant ? 1 : 0);
    }
    const d = r.decision;
    db.prepare('DELETE FROM analysis_decision').run();
    insert(db, 'analysis_decision', {
      id: 1, synthetic: r.synthetic ? 1 : 0, gate_threshold: d.gateThreshold, gate_passed: d.gatePassed === null ? null : d.gatePassed ? 1 : 0, outcome: d.outcome, outcome_title: d.outcomeTitle,
      size_matters: d.sizeMatters ? 1 : 0, recommendation: d.recommendation, bootstrap_resamples: r.bootstrap.resamples, bootstrap_seed: r.bootstrap.seed,
      decision_json: JSON.stringify(d),
    });
  })();
}

