import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb, type DB } from '../src/store/db';
import { analyzeDb } from '../src/analysis/analyze';
import { distribution, percentileSorted } from '../src/analysis/metrics';
import { scoresFromCells } from '../src/protocol/scores';

// FIXTURE.md's confusion table (GT row -> predicted column), verbatim. The
// test builds the baseline from it directly, independent of the generator.
const COLS = ['nominal', 'flagger', 'flooded', 'incident_zone', 'mounted_police', null] as const;
const FIXTURE: Array<[string | null, number[]]> = [
  ['nominal', [3287, 20, 9, 3404, 2, 6]],
  ['flagger', [67, 363, 6, 221, 1, 2]],
  ['flooded', [171, 9, 272, 163, 1, 2]],
  ['incident_zone', [103, 39, 5, 166, 8, 1]],
  ['mounted_police', [82, 19, 1, 78, 91, 1]],
  [null, [4, 7, 0, 0, 2, 0]],
];

export function insertExperiment(db: DB, id: string, condition: string, size: string | null, rows: Array<{ gt: string | null; original: string | null; final: string | null; fine?: string | null; sid?: number }>): void {
  db.prepare(`INSERT INTO experiments (experiment_id, condition_name, pipeline, verifier_size, backend, synthetic, status) VALUES (?, ?, 'A', ?, 'test', 1, 'completed')`).run(id, condition, size);
  const ins = db.prepare(`INSERT INTO predictions (experiment_id, sample_id, scene_type_gt, fine_class, original_scene, final_scene, final_status, total_time_ms) VALUES (?, ?, ?, ?, ?, ?, 'ok', ?)`);
  db.transaction(() => rows.forEach((r, i) => ins.run(id, r.sid ?? i, r.gt, r.fine ?? r.gt, r.original, r.final, 100 + (i % 50))))();
}

export function fixtureBaselineRows(): Array<{ gt: string | null; original: string | null; final: string | null; fine: string | null }> {
  const rows: Array<{ gt: string | null; original: string | null; final: string | null; fine: string | null }> = [];
  // nominal's row splits into fine classes (FIXTURE.md second table).
  const triggers = [532, 18, 7, 2236, 2, 6];
  for (const [gt, counts] of FIXTURE) {
    counts.forEach((n, j) => {
      for (let k = 0; k < n; k++) {
        const fine = gt === 'nominal' ? (k < triggers[j]! ? 'nominal_triggers' : 'nominal_clean') : gt;
        rows.push({ gt, original: COLS[j]!, final: COLS[j]!, fine });
      }
    });
  }
  return rows;
}

test('fixture baseline: accuracy 4,179/8,613 = 0.4852 and macro-F1 0.4871, as published', async () => {
  const db = openDb(':memory:');
  insertExperiment(db, 'tc_baseline_x', 'baseline', null, fixtureBaselineRows());
  const r = await analyzeDb(db, { bootstrap: 0 });
  const b = r.conditions[0]!;
  assert.equal(b.n, 8613);
  assert.equal(b.correct, 4179);
  assert.equal(b.accuracy.toFixed(4), '0.4852');
  assert.equal(b.macroF1.toFixed(4), '0.4871');
  assert.equal(b.nUnlabelled, 13);
  assert.equal(b.nUnparseable, 12);
  assert.equal(b.nLabelled, 8600);
  const trig = b.fineClass.find((f) => f.fineClass === 'nominal_triggers')!;
  assert.deepEqual([trig.n, trig.correct], [2801, 532]);
  assert.equal(trig.accuracy.toFixed(3), '0.190');
  // the dominant error cell
  assert.equal(b.confusion[0]![2], 3404); // SCENES order: nominal row, incident_zone column
  assert.equal(b.confusion[5]![5], 0);
  assert.equal(b.revisionRate, 0);
  assert.deepEqual([b.saves, b.breaks], [0, 0]);
  db.close();
});

test('hand-built case: saves, breaks, revision accuracy and per-class scores have known values', async () => {
  const db = openDb(':memory:');
  const base = [
    { gt: 'nominal', original: 'incident_zone', final: 'incident_zone' }, // wrong
    { gt: 'nominal', original: 'nominal', final: 'nominal' }, // right
    { gt: 'flooded', original: 'flooded', final: 'flooded' }, // right
    { gt: 'flagger', original: null, final: null }, // unparseable, wrong
  ];
  insertExperiment(db, 'b', 'baseline', null, base);
  insertExperiment(db, 'v', 'all_tools', '2b', [
    { gt: 'nominal', original: 'incident_zone', final: 'nominal' }, // save, revised right
    { gt: 'nominal', original: 'nominal', final: 'incident_zone' }, // break, revised wrong
    { gt: 'flooded', original: 'flooded', final: 'flooded' },
    { gt: 'flagger', original: null, final: 'flagger' }, // save
  ]);
  const r = await analyzeDb(db, { bootstrap: 0 });
  const v = r.conditions.find((c) => c.experimentId === 'v')!;
  assert.deepEqual([v.saves, v.breaks, v.net], [2, 1, 1]);
  assert.equal(v.nSceneRevised, 3);
  assert.equal(v.revisionAccuracy, 2 / 3);
  assert.equal(v.revisionRate, 3 / 4);
  assert.equal(v.accuracy, 3 / 4);
  assert.equal(v.flipReference, 'baseline_experiment');
  // nominal: tp 1, support 2, predicted 1 -> F1 2/3; flooded 1; flagger 1; others 0
  const f1 = Object.fromEntries(v.perClass.map((p) => [p.scene, p.f1]));
  assert.equal(f1['nominal'], 2 / 3);
  assert.equal(f1['incident_zone'], 0);
  assert.equal(v.macroF1, (2 / 3 + 1 + 1) / 5);
  const b = r.conditions.find((c) => c.experimentId === 'b')!;
  assert.equal(b.nUnparseable, 1);
  assert.equal(b.confusion[4]![5], 1); // flagger row, unparseable column
  db.close();
});

test('percentiles interpolate like numpy; share under 5 s counts strictly below', () => {
  const s = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(percentileSorted(s, 50), 5.5);
  assert.equal(percentileSorted(s, 10), 1.9);
  assert.ok(Math.abs(percentileSorted(s, 99) - 9.91) < 1e-12);
  const d = distribution([4999, 5000, 6000, null, 100]);
  assert.equal(d.n, 4);
  assert.equal(d.shareUnder5s, 0.5);
  assert.equal(d.mean, (4999 + 5000 + 6000 + 100) / 4);
});

test('macro-F1 of an empty class is 0, not NaN', () => {
  const cells = new Float64Array(36);
  cells[0] = 3; // nominal -> nominal only
  const s = scoresFromCells(cells);
  assert.equal(s.accuracy, 1);
  assert.equal(s.macroF1, 1 / 5);
});
