import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../src/store/db';
import { analyzeDb, writeConditionMetrics } from '../src/analysis/analyze';
import { mcnemarExact, bootstrapChunk, compressPatterns, percentileInterval } from '../src/analysis/stats';
import { runBootstrap, column } from '../src/analysis/bootstrap-pool';
import { cellCode } from '../src/protocol/scores';
import { insertSyntheticSuite } from './support/synthetic-suite';
import { decide } from '../src/analysis/decision';
import type { ConditionResult as C } from '../src/analysis/types';
import type { Claim } from '../src/analysis/claims';

test('exact McNemar matches scipy.stats.binomtest two-sided p', () => {
  // binomtest(2, 12, 0.5).pvalue = 79/2048
  assert.ok(Math.abs(mcnemarExact(10, 2) - 79 / 2048) < 1e-12);
  assert.ok(Math.abs(mcnemarExact(2, 10) - 79 / 2048) < 1e-12);
  assert.equal(mcnemarExact(5, 5), 1);
  assert.equal(mcnemarExact(0, 0), 1);
  // binomtest(0, 5) = 2 * 0.5^5
  assert.ok(Math.abs(mcnemarExact(5, 0) - 0.0625) < 1e-12);
  // large n stays finite and tiny: binomtest(100, 400) ~ 1.1e-33
  const p = mcnemarExact(300, 100);
  assert.ok(p > 0 && p < 1e-20, String(p));
});

test('bootstrap: seeded, identical with 1 or 2 workers, and its spread matches sqrt(p(1-p)/n)', async () => {
  const n = 2000;
  const codes = new Uint8Array(n);
  // accuracy 0.3: 600 nominal->nominal, 1400 nominal->incident_zone
  for (let i = 0; i < n; i++) codes[i] = i < 600 ? cellCode('nominal', 'nominal') : cellCode('nominal', 'incident_zone');
  const one = await runBootstrap(codes, n, 1, { resamples: 1000, seed: 11, workers: 1 });
  const two = await runBootstrap(codes, n, 1, { resamples: 1000, seed: 11, workers: 2 });
  assert.deepEqual(one.accuracy, two.accuracy);
  assert.deepEqual(one.macroF1, two.macroF1);
  const other = bootstrapChunk({ ...compressPatterns(codes, n, 1), nSamples: n, nConditions: 1, seed: 12, first: 0, count: 50 });
  assert.notDeepEqual(other.accuracy, one.accuracy.subarray(0, 50));
  const acc = column(one.accuracy, 1, 0);
  const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
  const sd = Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1));
  const se = Math.sqrt(0.3 * 0.7 / n);
  assert.ok(Math.abs(mean - 0.3) < 0.003, `mean ${mean}`);
  assert.ok(Math.abs(sd / se - 1) < 0.12, `sd ${sd} vs se ${se}`);
  const ci = percentileInterval(acc);
  assert.ok(ci.lo < 0.3 && ci.hi > 0.3 && ci.hi - ci.lo > 3 * se && ci.hi - ci.lo < 5 * se, JSON.stringify(ci));
});

test('a condition identical to the baseline is within noise with a zero-width difference interval', async () => {
  const db = openDb(':memory:');
  insertSyntheticSuite(db, { nSamples: 300, seed: 3 });
  const r = await analyzeDb(db, { bootstrap: 200, seed: 5, workers: 1 });
  const base = r.conditions.find((c) => c.conditionName === 'baseline')!;
  assert.deepEqual(base.stats!.macroF1Diff, { lo: 0, hi: 0 });
  assert.equal(base.stats!.withinNoise, true);
  // 13 experiments, and each staged run's first answer as its own result
  assert.equal(r.conditions.length, 15);
  assert.deepEqual(r.sizeComparison.map((x) => x.conditionName), ['oracle', 'no_tools', 'prior_only', 'confusion_only', 'all_tools', 'staged', 'staged_first_answer']);
  // the oracle's verifier follows 80% of perfect warnings: clearly better than the baseline
  const oracle = r.conditions.find((c) => c.label === 'oracle_8b')!;
  assert.ok(oracle.stats!.macroF1Diff.lo > 0);
  assert.ok(oracle.net > 0 && oracle.mcnemarP < 0.05);
  db.close();
});

test('writeConditionMetrics fills the plan\'s columns and is idempotent', async () => {
  const db = openDb(':memory:');
  insertSyntheticSuite(db, { nSamples: 200 });
  const r = await analyzeDb(db, { bootstrap: 100, workers: 1 });
  writeConditionMetrics(db, r);
  writeConditionMetrics(db, r);
  const rows = db.prepare('SELECT experiment_id, condition_name, scene_accuracy, revision_rate, n_saves, n_breaks, net_improvement, verifier_size, tool_prior_call_count, p95_total_time_ms, role FROM condition_metrics').all() as Array<Record<string, unknown>>;
  assert.equal(rows.length, 15);
  // a staged first answer has no time of its own (it is part of the staged run's first turn)
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (k !== 'verifier_size' && !(k === 'p95_total_time_ms' && row['role'] === 'first_answer')) assert.notEqual(v, null, `${row['experiment_id']}.${k}`);
  const allTools = db.prepare(`SELECT tool_prior_call_count AS n FROM condition_metrics WHERE condition_name = 'all_tools' AND verifier_size = '2b'`).get() as { n: number };
  assert.equal(allTools.n, 200);
  assert.equal((db.prepare('SELECT count(*) AS n FROM condition_confusion').get() as { n: number }).n, 15 * 36);
  assert.equal((db.prepare('SELECT outcome FROM analysis_decision').get() as { outcome: number }).outcome, r.decision.outcome);
  db.close();
});

test('decision: the plan\'s four outcomes from hand-set numbers and claims', () => {
  const informative = (yes: boolean | null) => ({ tool: 'check_scene_prior', informativeness: { informative: yes } });
  const c = (conditionName: string, size: string | null, role: C['role'], x: Partial<C>): C => ({
    conditionName, verifierSize: size, label: size ? `${conditionName}_${size}` : conditionName, role, macroF1: 0.5, stats: null, net: 0, mcnemarP: 1,
    revisionRate: 0, revisionAccuracy: NaN, originalWrong: 100, originalWrongWarned: 0, warnedSamples: 0, warnedRevised: 0, tools: [], ...x,
  } as C);
  const claim = (subject: string, holds: boolean | null): Claim => ({ family: 'tools_help_verifier', subject, holds, comparisons: [], missing: null, needs: [subject], notDrawn: null });
  const base = c('baseline', null, 'baseline', { macroF1: 0.487 });
  const lowOracle = c('oracle', '8b', 'oracle', { macroF1: 0.65 });
  const highOracle = c('oracle', '8b', 'oracle', { macroF1: 0.75 });
  assert.equal(decide([base, lowOracle], [], 0.7).outcome, 1);
  assert.equal(decide([base, lowOracle], [], 0.6).gatePassed, true);
  // beats its controls, revises 12% with 70% accuracy -> 4
  const good = c('all_tools', '8b', 'tool', { macroF1: 0.55, revisionRate: 0.12, revisionAccuracy: 0.7 });
  assert.equal(decide([base, highOracle, good], [claim('all_tools_8b', true)], 0.7).outcome, 4);
  // the same numbers without the claim holding (e.g. no better than its no_tools control) -> not 4
  assert.notEqual(decide([base, highOracle, good], [claim('all_tools_8b', false)], 0.7).outcome, 4);
  // beats its controls but revises in 2% of samples -> 3
  const rare = c('all_tools', '8b', 'tool', { macroF1: 0.5, revisionRate: 0.02, revisionAccuracy: 0.9 });
  assert.equal(decide([base, highOracle, rare], [claim('all_tools_8b', true)], 0.7).outcome, 3);
  // no gain; the tool's warnings pick out wrong originals but 90% of warned samples kept -> 3 (model ignores)
  const ignoring = c('prior_only', '2b', 'tool', { warnedSamples: 100, warnedRevised: 10, tools: [informative(true)] as unknown as C['tools'] });
  assert.equal(decide([base, highOracle, ignoring], [claim('prior_only_2b', false)], 0.7).outcome, 3);
  // no gain and the warnings do not discriminate (warning often is not enough) -> 2
  const mute = c('prior_only', '2b', 'tool', { warnedSamples: 100, warnedRevised: 10, tools: [informative(false)] as unknown as C['tools'] });
  const d = decide([base, highOracle, mute], [claim('prior_only_2b', false)], 0.7, true);
  assert.equal(d.outcome, 2);
  assert.equal(d.simulated, true);
  assert.match(d.reasons.join(' '), /oracle_8b 0\.7500 vs gate 0\.7: passed/);
  assert.match(d.reasons.join(' '), /uninformative/);
});
