// Attribution: Holm, p-value formatting, the bootstrap p, proportion
// intervals, the rule comparator, informativeness, and each family of the
// decision's comparisons on hand-built experiments whose answers are known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb, type DB } from '../src/store/db';
import { analyzeDb, writeConditionMetrics } from '../src/analysis/analyze';
import { bootstrapP, holm, mcnemarExact, newcombeDiff, wilson } from '../src/analysis/stats';
import { formatP } from '../src/analysis/numbers';
import { applyRule, rulePredictions, verdictsFor } from '../src/analysis/rule-baselines';
import { informativeness } from '../src/analysis/condition';
import { selectExperiments } from '../src/analysis/load';
import { computeToolStats } from '../src/tools/stats';
import { publishedFixture } from './4-tools-fixture';
import { SCENES } from '../src/domain/enums';

test('holm: step-down adjustment, order kept, NaN left out of the family', () => {
  assert.deepEqual(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06]);
  // monotone: a larger raw p never gets a smaller adjusted p
  assert.deepEqual(holm([0.02, 0.001, 0.5, 0.02]), [0.06, 0.004, 0.5, 0.06]);
  const withNaN = holm([0.01, NaN, 0.02]);
  assert.deepEqual([withNaN[0], withNaN[2]], [0.02, 0.02]);
  assert.ok(Number.isNaN(withNaN[1]));
  assert.deepEqual(holm([0.9, 0.8]), [1, 1]);
});

test('p-values below the double range print as "< 1e-300", never as 0', () => {
  assert.equal(formatP(0), '< 1e-300');
  assert.equal(formatP(5e-324), '< 1e-300');
  assert.equal(formatP(3e-300), '3.0e-300');
  assert.equal(formatP(2.4e-5), '2.4e-5');
  assert.equal(formatP(0.01234), '0.0123');
  assert.equal(formatP(NaN), 'n/a');
  // 4,000 one-sided discordant pairs: the exact p underflows to 0 in a double
  assert.equal(mcnemarExact(4000, 0), 0);
  assert.equal(formatP(mcnemarExact(4000, 0)), '< 1e-300');
});

test('bootstrap p: twice the smaller tail at 0 with the +1 correction', () => {
  assert.equal(bootstrapP(new Float64Array(99).fill(0.1)), 0.02);
  assert.equal(bootstrapP(new Float64Array(99).fill(0)), 1);
  // 10 of 99 resamples at or below 0: 2 * 11 / 100
  const d = Float64Array.from({ length: 99 }, (_, i) => (i < 10 ? -0.01 : 0.02));
  assert.ok(Math.abs(bootstrapP(d) - 0.22) < 1e-12);
});

test('Wilson and Newcombe intervals match published worked examples', () => {
  // Newcombe (1998), Stat Med 17:873, example (a) for single proportions: 81/263 -> 0.2553 to 0.3662
  const w = wilson(81, 263);
  assert.equal(w.lo.toFixed(4), '0.2553');
  assert.equal(w.hi.toFixed(4), '0.3662');
  assert.equal(wilson(0, 10).lo, 0);
  // Newcombe (1998), Stat Med 17:873, method 10, example (a): 56/70 - 48/80 -> 0.0524 to 0.3339
  const n = newcombeDiff(56, 70, 48, 80);
  assert.equal(n.lo.toFixed(4), '0.0524');
  assert.equal(n.hi.toFixed(4), '0.3339');
});

test('rule: the most severe warning that names an alternative wins; plausible or no alternative keeps the greedy scene', () => {
  assert.equal(applyRule('incident_zone', [{ tool: 'a', verdict: 'implausible', alternative: 'nominal' }]), 'nominal');
  assert.equal(applyRule('incident_zone', [{ tool: 'a', verdict: 'plausible', alternative: 'nominal' }]), 'incident_zone');
  assert.equal(applyRule('incident_zone', [{ tool: 'a', verdict: 'implausible', alternative: null }]), 'incident_zone');
  assert.equal(applyRule('flooded', [{ tool: 'a', verdict: 'doubtful', alternative: 'nominal' }, { tool: 'b', verdict: 'implausible', alternative: 'flagger' }]), 'flagger');
  assert.equal(applyRule('flooded', [{ tool: 'a', verdict: 'doubtful', alternative: 'nominal' }, { tool: 'b', verdict: 'doubtful', alternative: 'flagger' }]), 'nominal');
  assert.equal(applyRule(null, [{ tool: 'a', verdict: null, alternative: null }]), null);
});

test('rule comparator on the published fixture: check_confusion_risk sends every incident_zone to nominal (accuracy 0.861)', () => {
  const { samples, greedy } = publishedFixture();
  const stats = computeToolStats(samples, greedy);
  const rows = samples.map((s) => ({ sample_id: s.sampleId, original_scene: greedy.get(s.sampleId)!.scene, original_long_action: s.longActionGt, original_lat_action: s.latActionGt, original_waypoints_json: null }));
  const v = verdictsFor(rows.find((r) => r.original_scene === 'incident_zone')!, stats).find((x) => x.tool === 'check_confusion_risk')!;
  assert.deepEqual([v.verdict, v.alternative], ['implausible', 'nominal']);
  const rules = rulePredictions(rows, stats);
  const conf = rules.get('rule_check_confusion_risk')!;
  let right = 0;
  for (const s of samples) if (s.sceneGt !== null && conf.get(s.sampleId) === s.sceneGt) right++;
  // 4,179 right before; the 4,032 incident_zone predictions become nominal: +3,404 nominal right, -166 incident_zone right
  assert.equal(right, 4179 + 3404 - 166);
  assert.equal((right / 8613).toFixed(3), '0.861');
  // the waypoint tool cannot judge a prediction without a waypoint: no change
  const wp = rules.get('rule_check_waypoint_feasibility')!;
  assert.ok(rows.every((r) => wp.get(r.sample_id) === r.original_scene));
});

test('informativeness: a tool that warns on right and wrong alike is uninformative; one that picks out wrong originals is informative', () => {
  const wrong = new Map<number, boolean>();
  for (let i = 0; i < 400; i++) wrong.set(i, i % 2 === 0);
  const all = [...wrong.keys()];
  // warns on half the samples, regardless of right or wrong
  const blind = informativeness(all, new Set(all.filter((i) => i < 200)), wrong);
  assert.equal(blind.pWrongWarned, 0.5);
  assert.equal(blind.informative, false);
  // warns on 90% of wrong originals and 10% of right ones
  const sharp = informativeness(all, new Set(all.filter((i) => (i % 2 === 0 ? i % 20 !== 0 : i % 20 === 1))), wrong);
  assert.ok(sharp.pWrongWarned > 0.85 && sharp.pWrongNotWarned < 0.15);
  assert.equal(sharp.informative, true);
  // warns on everything: nothing to compare with
  assert.equal(informativeness(all, new Set(all), wrong).informative, null);
});

// --- the decision's comparisons on hand-built experiments -----------------

const ALL = ['check_scene_prior', 'check_scene_action_compatibility', 'check_waypoint_feasibility', 'check_confusion_risk'];
type Row = { sid: number; gt: string; original: string; final: string };

function insert(db: DB, id: string, condition: string, size: string | null, pipeline: string, tools: string[], rows: Row[]): void {
  db.prepare(`INSERT INTO experiments (experiment_id, condition_name, pipeline, verifier_size, backend, synthetic, tools_enabled, status) VALUES (?, ?, ?, ?, 'test', 1, ?, 'completed')`).run(id, condition, pipeline, size, JSON.stringify(tools));
  const ins = db.prepare(`INSERT INTO predictions (experiment_id, sample_id, scene_type_gt, fine_class, original_scene, final_scene, final_status) VALUES (?, ?, ?, ?, ?, ?, 'ok')`);
  db.transaction(() => rows.forEach((r) => ins.run(id, r.sid, r.gt, r.gt, r.original, r.final)))();
}

/** 500 samples, 100 per scene; `right(i)` says whether an arm is right on sample i. */
function arm(right: (i: number) => boolean, original?: (i: number) => boolean): Row[] {
  return Array.from({ length: 500 }, (_, i) => {
    const gt = SCENES[i % 5]!;
    const wrongScene = SCENES[(i + 1) % 5]!;
    return { sid: i, gt, original: (original ?? right)(i) ? gt : wrongScene, final: right(i) ? gt : wrongScene };
  });
}

function handSuite(opts: { dropFromControl?: number } = {}): DB {
  const db = openDb(':memory:');
  const T = '20260101_000000';
  const greedy = (i: number): boolean => i % 2 === 0; // 50% right
  insert(db, `tc_baseline_${T}`, 'baseline', null, 'A', [], arm(greedy));
  const control = arm((i) => greedy(i) || i % 10 === 1); // 60%
  insert(db, `tc_no_tools_8b_${T}`, 'no_tools', '8b', 'A', [], opts.dropFromControl ? control.slice(opts.dropFromControl) : control);
  insert(db, `tc_all_tools_8b_${T}`, 'all_tools', '8b', 'A', ALL, arm((i) => i % 10 !== 9, greedy)); // 90%
  // staged: first answer right on 80%, the final answer on 82%
  insert(db, `tc_staged_8b_${T}`, 'staged', '8b', 'B', ['check_confusion_risk'], arm((i) => i % 10 < 8 || i % 50 === 8, (i) => i % 10 < 8));
  return db;
}

test('tools help the verifier: judged against no_tools and the rule comparator; without rules the claim is not judged', async () => {
  const db = handSuite();
  const r = await analyzeDb(db, { bootstrap: 400, seed: 3, workers: 1 });
  const cl = r.decision.claims.find((c) => c.family === 'tools_help_verifier' && c.subject === 'all_tools_8b')!;
  assert.equal(cl.comparisons.length, 1);
  const vs = cl.comparisons[0]!;
  assert.deepEqual([vs.a, vs.b, vs.n], ['all_tools_8b', 'no_tools_8b', 500]);
  assert.equal(vs.accuracyA, 0.9);
  assert.equal(vs.accuracyB, 0.6);
  assert.ok(vs.macroF1Ci.lo > 0 && vs.verdict === 'better' && vs.pHolm < 0.05, JSON.stringify(vs));
  // McNemar beside: right only with all_tools where the control is wrong (i % 10 in 3, 5, 7: 150), never the reverse
  assert.equal(vs.onlyA - vs.onlyB, 150);
  assert.equal(cl.holds, null);
  assert.match(cl.missing!, /rule comparators/);

  // with the tool statistics: one rule per tool and one for all, and the claim needs both comparisons
  const { samples, greedy } = publishedFixture();
  const withRules = await analyzeDb(db, { bootstrap: 400, seed: 3, workers: 1, toolStats: computeToolStats(samples, greedy) });
  assert.deepEqual(withRules.rules.map((x) => x.rule), ['rule_check_scene_prior', 'rule_check_confusion_risk', 'rule_check_scene_action_compatibility', 'rule_check_waypoint_feasibility', 'rule_all_tools']);
  const cl2 = withRules.decision.claims.find((c) => c.family === 'tools_help_verifier' && c.subject === 'all_tools_8b')!;
  assert.deepEqual(cl2.comparisons.map((c) => c.b), ['no_tools_8b', 'rule_all_tools']);
  assert.equal(cl2.holds, cl2.comparisons.every((c) => c.verdict === 'better'));
  // a rule's saves and breaks are counted against the baseline, per scene too
  const conf = withRules.rules.find((x) => x.rule === 'rule_check_confusion_risk')!;
  assert.equal(conf.perScene.reduce((a, s) => a + s.saves - s.breaks, 0), conf.net);
  writeConditionMetrics(db, withRules);
  assert.equal((db.prepare('SELECT count(*) AS n FROM rule_baselines').get() as { n: number }).n, 5);
  db.close();
});

test('tools help the base model: staged final vs its first answer (+10 samples), not vs the greedy baseline (+160)', async () => {
  const db = handSuite();
  const r = await analyzeDb(db, { bootstrap: 400, seed: 3, workers: 1 });
  const first = r.conditions.find((c) => c.label === 'staged_first_answer_8b')!;
  assert.equal(first.role, 'first_answer');
  assert.equal(first.correct, 400);
  const base = r.decision.claims.find((c) => c.family === 'tools_help_base_model')!;
  const x = base.comparisons[0]!;
  assert.deepEqual([x.a, x.b], ['staged_8b', 'staged_first_answer_8b']);
  assert.deepEqual([x.onlyA, x.onlyB], [10, 0]);
  assert.equal(x.accuracyDiff.toFixed(2), '0.02');
  const ft = r.decision.claims.find((c) => c.family === 'tools_replace_finetuning')!.comparisons[0]!;
  assert.deepEqual([ft.a, ft.b], ['staged_8b', 'baseline']);
  assert.equal(ft.onlyA - ft.onlyB, 410 - 250);
  assert.equal(ft.verdict, 'better');
  db.close();
});

test('one sample set per comparison: the control missing 100 samples shrinks only its comparisons, and says so', async () => {
  const db = handSuite({ dropFromControl: 100 });
  const r = await analyzeDb(db, { bootstrap: 200, seed: 3, workers: 1 });
  const vs = r.decision.claims.find((c) => c.subject === 'all_tools_8b')!.comparisons[0]!;
  assert.equal(vs.n, 400);
  assert.deepEqual(vs.leftOut, [{ label: 'all_tools_8b', count: 100 }, { label: 'no_tools_8b', count: 0 }]);
  // point estimates on the same 400 samples as the interval
  const kept = arm((i) => i % 10 !== 9).slice(100);
  assert.equal(vs.accuracyA, kept.filter((x) => x.final === x.gt).length / 400);
  const control = r.conditions.find((c) => c.label === 'no_tools_8b')!;
  assert.equal(control.stats!.nVsBaseline, 400);
  const staged = r.decision.claims.find((c) => c.family === 'tools_help_base_model')!.comparisons[0]!;
  assert.equal(staged.n, 500);
  db.close();
});

test('Holm within a family: size comparisons share one correction; the rows land in decision_comparisons', async () => {
  const db = handSuite();
  const T = '20260101_000000';
  insert(db, `tc_no_tools_2b_${T}`, 'no_tools', '2b', 'A', [], arm((i) => i % 2 === 0));
  insert(db, `tc_all_tools_2b_${T}`, 'all_tools', '2b', 'A', ALL, arm((i) => i % 10 !== 9, (i) => i % 2 === 0));
  const r = await analyzeDb(db, { bootstrap: 400, seed: 3, workers: 1 });
  const size = r.decision.claims.filter((c) => c.family === 'size_matters').flatMap((c) => c.comparisons);
  assert.deepEqual(size.map((c) => c.a).sort(), ['all_tools_8b', 'no_tools_8b']);
  const adj = holm(size.map((c) => c.p));
  assert.deepEqual(size.map((c) => c.pHolm), adj);
  // identical 8B and 2B all_tools: no difference; the no_tools pair differs by 50 samples
  assert.equal(size.find((c) => c.a === 'all_tools_8b')!.verdict, 'no difference');
  writeConditionMetrics(db, r);
  const n = (db.prepare('SELECT count(*) AS n FROM decision_comparisons').get() as { n: number }).n;
  assert.equal(n, r.decision.claims.reduce((a, c) => a + c.comparisons.length, 0));
  db.close();
});

test('without explicit ids, analysis takes the newest suite only', async () => {
  const db = handSuite();
  db.prepare(`UPDATE experiments SET created_at = '2026-01-01 00:00:00'`).run();
  insert(db, 'tc_all_tools_8b_20260202_000000', 'all_tools', '8b', 'A', ['check_scene_prior'], arm((i) => i % 3 === 0));
  db.prepare(`UPDATE experiments SET created_at = '2026-02-02 00:00:00' WHERE experiment_id = 'tc_all_tools_8b_20260202_000000'`).run();
  assert.deepEqual(selectExperiments(db).map((e) => e.experiment_id), ['tc_all_tools_8b_20260202_000000']);
  db.close();
});
