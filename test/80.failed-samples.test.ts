// Issue 14, W1/W2/W8: a failed sample (server error, timeout) is no answer.
// It is left out of every metric and comparison, counted apart and shown
// first in the reports; the outcome is refused while a condition it needs
// is missing, incomplete or failed, and so is each claim that needs one
// (the others are drawn).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../src/store/db';
import { analyzeDb, writeConditionMetrics } from '../src/analysis/analyze';
import { insertSyntheticSuite } from './support/synthetic-suite';
import { decide } from '../src/analysis/decision';
import { summaryTable } from '../src/report/summary-table';
import type { ConditionResult as C } from '../src/analysis/types';
import type { Claim } from '../src/analysis/claims';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { REPORT_FILES, writeReports } from '../src/report/write-reports';

test('failed samples: out of accuracy, F1 and flips, counted, and the decision refused naming the condition', async () => {
  const db = openDb(':memory:');
  insertSyntheticSuite(db, { nSamples: 200 });
  const target = (db.prepare(`SELECT experiment_id AS id FROM experiments WHERE condition_name = 'all_tools' AND verifier_size = '8b'`).get() as { id: string }).id;
  const clean = await analyzeDb(db, { bootstrap: 0, workers: 1 });
  assert.notEqual(clean.decision.outcome, null, 'a complete suite draws a decision');
  // 50 samples of one condition fail the way a dead engine leaves them
  db.prepare(`UPDATE predictions SET final_status = 'server_error', final_scene = NULL, final_long_action = NULL, final_lat_action = NULL
    WHERE experiment_id = ? AND sample_id IN (SELECT sample_id FROM predictions WHERE experiment_id = ? ORDER BY sample_id LIMIT 50)`).run(target, target);
  const r = await analyzeDb(db, { bootstrap: 0, workers: 1 });
  const c = r.conditions.find((x) => x.experimentId === target)!;
  assert.equal(c.nFailed, 50);
  assert.equal(c.n, 150, 'only answered samples are in the metrics');
  assert.equal(c.finalStatus['server_error'], 50);
  // the metrics equal those over the answered samples alone
  const kept = db.prepare(`SELECT count(*) AS n, sum(final_scene = scene_type_gt) AS ok FROM predictions WHERE experiment_id = ? AND final_status != 'server_error'`).get(target) as { n: number; ok: number };
  assert.equal(c.correct, kept.ok);
  assert.equal(c.accuracy, kept.ok / kept.n);
  assert.equal(r.decision.outcome, null);
  assert.match(r.decision.refused.join(' '), /all_tools_8b failed: 50 of 200/);
  const table = summaryTable(r);
  assert.match(table.split('\n').slice(0, 3).join('\n'), /FAILED samples .*all_tools_8b 50 of 200/);
  assert.doesNotMatch(table, /Outcome [1-4]/);
  // under the limit the decision stands: one failed sample of 200
  db.prepare(`UPDATE predictions SET final_status = 'ok' WHERE experiment_id = ? AND sample_id > (SELECT min(sample_id) FROM predictions WHERE experiment_id = ?)`).run(target, target);
  const few = await analyzeDb(db, { bootstrap: 0, workers: 1 });
  assert.equal(few.conditions.find((x) => x.experimentId === target)!.nFailed, 1);
  assert.notEqual(few.decision.outcome, null);
  db.close();
});

test('running experiments: refused without --partial, labelled partial with it, no decision', async () => {
  const db = openDb(':memory:');
  insertSyntheticSuite(db, { nSamples: 60 });
  db.prepare(`UPDATE experiments SET status = 'running' WHERE condition_name = 'prior_only'`).run();
  await assert.rejects(analyzeDb(db, { bootstrap: 0, workers: 1 }), /still running.*prior_only/);
  const r = await analyzeDb(db, { bootstrap: 0, workers: 1, allowPartial: true });
  assert.equal(r.partial, true);
  assert.equal(r.decision.outcome, null);
  assert.match(r.decision.refused.join(' '), /prior_only_\w+ is incomplete \(status running\)/);
  assert.match(summaryTable(r), /^PARTIAL: /m);
  db.close();
});

test('W8: no decision when only the oracles ran, or when the gate did not run', () => {
  const c = (conditionName: string, size: string | null, role: C['role'], x: Partial<C> = {}): C => ({
    conditionName, verifierSize: size, label: size ? `${conditionName}_${size}` : conditionName, role, macroF1: 0.5, stats: null, net: 0, mcnemarP: 1,
    n: 100, nFailed: 0, nPlanned: 100, runStatus: 'completed',
    revisionRate: 0.1, revisionAccuracy: 0.7, originalWrong: 100, originalWrongWarned: 0, warnedSamples: 0, warnedRevised: 0, tools: [], ...x,
  } as C);
  const oracles = [c('oracle', '2b', 'oracle', { macroF1: 0.8 }), c('oracle', '8b', 'oracle', { macroF1: 0.8 })];
  const onlyOracles = decide(oracles, [], 0.7);
  assert.equal(onlyOracles.outcome, null, 'no "Outcome 2" from the oracles alone');
  assert.match(onlyOracles.refused.join(' '), /no tool condition/);
  const tool = c('all_tools', '8b', 'tool', { macroF1: 0.6 });
  const claim = { family: 'tools_help_verifier' as const, subject: 'all_tools_8b', holds: true, comparisons: [], missing: null, needs: ['all_tools_8b'], notDrawn: null };
  const noGate = decide([c('baseline', null, 'baseline'), tool], [claim], 0.7);
  assert.equal(noGate.outcome, null, 'no "Outcome 4" with the gate NOT RUN');
  assert.match(noGate.refused.join(' '), /gate NOT RUN/);
  // a failed oracle: the gate cannot be judged
  const failedOracle = decide([c('oracle', '8b', 'oracle', { macroF1: 0.1, n: 10, nFailed: 90 })], [], 0.7);
  assert.equal(failedOracle.outcome, null, 'no "Outcome 1" from failed oracle samples');
  // sound oracles below the gate: outcome 1 needs nothing else
  assert.equal(decide([c('oracle', '8b', 'oracle', { macroF1: 0.1 })], [], 0.7).outcome, 1);
  assert.equal(decide([c('baseline', null, 'baseline'), oracles[1]!, tool], [claim], 0.7).outcome, 4);
});

test('one failed condition: its claims are not drawn (saying which and why), every other claim is; every report says so', async () => {
  const db = openDb(':memory:');
  insertSyntheticSuite(db, { nSamples: 120 });
  const clean = await analyzeDb(db, { bootstrap: 200, workers: 1 });
  const target = (db.prepare(`SELECT experiment_id AS id FROM experiments WHERE condition_name = 'staged' AND verifier_size = '8b'`).get() as { id: string }).id;
  db.prepare(`UPDATE predictions SET final_status = 'server_error', final_scene = NULL, final_long_action = NULL, final_lat_action = NULL
    WHERE experiment_id = ? AND sample_id IN (SELECT sample_id FROM predictions WHERE experiment_id = ? ORDER BY sample_id LIMIT 41)`).run(target, target);
  const r = await analyzeDb(db, { bootstrap: 200, workers: 1 });
  const why = 'failed: 34% of samples failed, 41 of 120';
  const needsFailed = (cl: Claim): boolean => cl.needs.includes('staged_8b') || cl.needs.includes('staged_first_answer_8b');
  const blocked = r.decision.claims.filter(needsFailed);
  assert.deepEqual(blocked.map((c) => `${c.family} ${c.subject}`).sort(), ['size_matters staged', 'size_matters staged_first_answer', 'tools_help_base_model staged_8b', 'tools_replace_finetuning staged_8b']);
  for (const cl of blocked) {
    assert.equal(cl.holds, null);
    assert.match(cl.notDrawn!, new RegExp(`needs staged(_first_answer)?_8b \\(${why}\\)`));
    assert.ok(cl.comparisons.every((c) => c.verdict === 'not tested' && Number.isNaN(c.pHolm)), 'no verdict, out of the Holm family');
  }
  // every other claim is drawn, as in the clean analysis (the Holm families shrink, so only drawn-ness is compared)
  const drawn = r.decision.claims.filter((cl) => !needsFailed(cl));
  assert.ok(drawn.length >= 8);
  for (const cl of drawn) {
    assert.equal(cl.notDrawn, null, `${cl.subject} must be drawn`);
    const before = clean.decision.claims.find((x) => x.family === cl.family && x.subject === cl.subject)!;
    assert.equal(cl.holds === null, before.holds === null, `${cl.family} ${cl.subject}: judged as in the clean run`);
    assert.ok(cl.comparisons.every((c) => c.verdict !== 'not tested'));
  }
  // the overall outcome needs every condition: not drawn, naming the failed one
  assert.equal(r.decision.outcome, null);
  assert.match(r.decision.refused.join(' '), /staged_8b failed: 41 of 120/);
  // the reports say which claims are not drawn and why
  const line = `not drawn: needs staged_8b (${why})`;
  assert.ok(summaryTable(r).includes(`tools_replace_finetuning staged_8b: ${line}`), 'terminal summary');
  const dir = tmpDir();
  await writeReports(db, r, { outDir: dir });
  assert.ok(fs.readFileSync(path.join(dir, REPORT_FILES.insights), 'utf8').includes(`**staged_8b: ${line}**`), 'Markdown');
  assert.ok(fs.readFileSync(path.join(dir, REPORT_FILES.html), 'utf8').includes(`staged_8b: ${line}`), 'HTML');
  const records = fs.readFileSync(path.join(dir, REPORT_FILES.samples), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: string; condition_problem: string | null });
  assert.ok(records.filter((x) => x.label === 'staged_8b').every((x) => x.condition_problem === why), 'JSONL: each record of the failed condition');
  assert.ok(records.filter((x) => x.label === 'all_tools_8b').every((x) => x.condition_problem === null));
  writeConditionMetrics(db, r);
  const stored = db.prepare(`SELECT claim_missing AS m, verdict FROM decision_comparisons WHERE subject = 'staged_8b'`).all() as Array<{ m: string; verdict: string }>;
  assert.equal(stored.length, 2);
  assert.ok(stored.every((x) => x.m.startsWith(line) && x.verdict === 'not tested'), 'the database table says so too');
  db.close();
});
