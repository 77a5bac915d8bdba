// Stores an AnalysisResult: the plan's condition_metrics columns (plus the
// analysis columns of migration 3) and the breakdown tables. Re-running
// replaces the rows of the analysed experiments, so it is idempotent.
import type { DB } from '../store/db';
import { CONFUSION_COLS, CONFUSION_ROWS } from './metrics';
import { N_CLASSES } from '../protocol/scores';
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
    role: c.role, derived_from: c.derivedFrom, n_vs_baseline: c.stats?.nVsBaseline ?? null, n_left_out_vs_baseline: c.stats?.leftOutVsBaseline ?? null,
    within_noise_accuracy: c.stats ? (c.stats.withinNoiseAccuracy ? 1 : 0) : null, within_noise_macro_f1: c.stats ? (c.stats.withinNoiseMacroF1 ? 1 : 0) : null,
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

const bit = (b: boolean | null): number | null => (b === null ? null : b ? 1 : 0);

function writeExperimentRows(db: DB, c: ConditionResult, r: AnalysisResult): void {
  insert(db, 'condition_metrics', conditionRow(c, r));
  const cls = db.prepare(`INSERT INTO condition_class_metrics (experiment_id, breakdown, class_name, n, n_correct, accuracy, n_predicted, precision, recall, f1, baseline_correct, n_saves, n_breaks)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  for (const p of c.perClass) {
    const flips = c.perScene.find((x) => x.scene === p.scene);
    // baseline_correct per scene: right now, minus what was saved, plus what was broken.
    cls.run(c.experimentId, 'scene', p.scene, p.support, p.tp, num(p.recall), p.predicted, num(p.precision), num(p.recall), num(p.f1),
      flips ? flips.correct - flips.saves + flips.breaks : null, flips?.saves ?? 0, flips?.breaks ?? 0);
  }
  for (const f of c.fineClass) cls.run(c.experimentId, 'fine_class', f.fineClass, f.n, f.correct, num(f.accuracy), null, null, null, null, f.baselineCorrect, f.saves, f.breaks);
  const conf = db.prepare(`INSERT INTO condition_confusion (experiment_id, gt_scene, pred_scene, count) VALUES (?, ?, ?, ?)`);
  for (let g = 0; g <= N_CLASSES; g++) for (let p = 0; p <= N_CLASSES; p++) conf.run(c.experimentId, CONFUSION_ROWS[g], CONFUSION_COLS[p], c.confusion[g]![p]!);
  for (const t of c.tools) {
    const i = t.informativeness;
    insert(db, 'condition_tool_metrics', {
      experiment_id: c.experimentId, tool_name: t.tool, n_calls: t.calls, n_samples_called: t.samplesCalled, p_revise_given_tool: num(t.pReviseGivenTool),
      mean_revised_after: num(t.meanRevisedAfter), n_warnings: t.warnings, n_warned_samples_ignored: t.warningsIgnored,
      n_answered_warned: i.warned, n_warned_original_wrong: i.warnedWrong, p_wrong_given_warned: num(i.pWrongWarned), p_wrong_given_warned_ci_low: num(i.pWrongWarnedCi.lo), p_wrong_given_warned_ci_high: num(i.pWrongWarnedCi.hi),
      n_answered_not_warned: i.notWarned, n_not_warned_original_wrong: i.notWarnedWrong, p_wrong_given_not_warned: num(i.pWrongNotWarned),
      p_wrong_given_not_warned_ci_low: num(i.pWrongNotWarnedCi.lo), p_wrong_given_not_warned_ci_high: num(i.pWrongNotWarnedCi.hi),
      p_wrong_diff_ci_low: num(i.diffCi.lo), p_wrong_diff_ci_high: num(i.diffCi.hi), informative: bit(i.informative),
    });
  }
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

function writeRules(db: DB, r: AnalysisResult): void {
  db.prepare('DELETE FROM rule_baselines').run();
  db.prepare('DELETE FROM rule_baseline_scene').run();
  for (const x of r.rules) {
    insert(db, 'rule_baselines', {
      rule: x.rule, tools_json: JSON.stringify(x.tools), baseline_experiment_id: r.baselineId, n_samples: x.n, n_correct: x.correct,
      scene_accuracy: num(x.accuracy), scene_macro_f1: num(x.macroF1),
      scene_accuracy_ci_low: num(x.accuracyCi.lo), scene_accuracy_ci_high: num(x.accuracyCi.hi), scene_macro_f1_ci_low: num(x.macroF1Ci.lo), scene_macro_f1_ci_high: num(x.macroF1Ci.hi),
      saves: x.saves, breaks: x.breaks, net: x.net, n_changed: x.changed, tool_stats_mode: r.toolStatsModes.join(',') || null,
    });
    for (const s of x.perScene) insert(db, 'rule_baseline_scene', { rule: x.rule, scene: s.scene, n: s.n, n_correct: s.correct, saves: s.saves, breaks: s.breaks });
  }
}

function writeComparisons(db: DB, r: AnalysisResult): void {
  db.prepare('DELETE FROM decision_comparisons').run();
  for (const cl of r.decision.claims) {
    for (const c of cl.comparisons) {
      insert(db, 'decision_comparisons', {
        family: c.family, subject: cl.subject, arm_a: c.a, arm_b: c.b, n_samples: c.n, left_out_json: JSON.stringify(c.leftOut),
        macro_f1_a: num(c.macroF1A), macro_f1_b: num(c.macroF1B), macro_f1_diff: num(c.macroF1Diff), macro_f1_diff_ci_low: num(c.macroF1Ci.lo), macro_f1_diff_ci_high: num(c.macroF1Ci.hi),
        p_bootstrap: num(c.p), p_holm: num(c.pHolm), verdict: c.verdict, claim_holds: bit(cl.holds), claim_missing: cl.notDrawn ? `not drawn: ${cl.notDrawn}` : cl.missing,
        accuracy_a: num(c.accuracyA), accuracy_b: num(c.accuracyB), accuracy_diff: num(c.accuracyDiff), accuracy_diff_ci_low: num(c.accuracyCi.lo), accuracy_diff_ci_high: num(c.accuracyCi.hi),
        only_a_right: c.onlyA, only_b_right: c.onlyB, mcnemar_p: num(c.mcnemarP),
      });
    }
  }
}

export function writeConditionMetrics(db: DB, r: AnalysisResult): void {
  const perExperiment = ['condition_metrics', 'condition_class_metrics', 'condition_confusion', 'condition_tool_metrics', 'condition_latency', 'condition_status_counts'];
  db.transaction(() => {
    for (const c of r.conditions) {
      for (const t of perExperiment) db.prepare(`DELETE FROM ${t} WHERE experiment_id = ?`).run(c.experimentId);
      writeExperimentRows(db, c, r);
    }
    writeRules(db, r);
    writeComparisons(db, r);
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
