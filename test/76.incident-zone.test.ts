import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incidentZoneBias, incidentZoneHeadline } from '../src/analysis/incident-zone';
import type { ConditionResult } from '../src/analysis/types';

// FIXTURE.md's baseline confusion, rows/columns in SCENES order
// (nominal, flooded, incident_zone, mounted_police, flagger, NULL).
const FIXTURE_BASELINE = [
  [3287, 9, 3404, 2, 20, 6],
  [171, 272, 163, 1, 9, 2],
  [103, 5, 166, 8, 39, 1],
  [82, 1, 78, 91, 19, 1],
  [67, 6, 221, 1, 363, 2],
  [4, 0, 0, 2, 7, 0],
];

const cond = (label: string, confusion: number[][], name = label): ConditionResult =>
  ({ label, conditionName: name, experimentId: label, confusion, n: confusion.flat().reduce((a, v) => a + v, 0) }) as unknown as ConditionResult;

test('the fixture baseline shows the plan\'s 12.5x incident_zone over-prediction', () => {
  const z = incidentZoneBias(cond('baseline', FIXTURE_BASELINE));
  assert.equal(z.predicted, 4032);
  assert.equal(z.truth, 322);
  assert.equal(z.ratio.toFixed(1), '12.5');
  assert.equal((100 * z.predictedShare).toFixed(1), '46.8');
  assert.equal(z.nominalAsIncident, 3404);
  assert.equal(z.precision, 166 / 4032);
  assert.equal(z.recall, 166 / 322);
});

test('the headline picks the non-oracle condition closest to 1x', () => {
  const fixed = FIXTURE_BASELINE.map((row) => [...row]);
  fixed[0]![0]! += 3000; fixed[0]![2]! -= 3000; // most nominal->incident errors repaired
  const overshoot = FIXTURE_BASELINE.map((row) => [...row]);
  for (const row of overshoot) { row[0]! += row[2]!; row[2] = 0; } // incident_zone never predicted: 0x is not a fix
  const line = incidentZoneHeadline([cond('baseline', FIXTURE_BASELINE), cond('oracle_8b', fixed, 'oracle'), cond('all_tools_8b', fixed, 'all_tools'), cond('prior_only_8b', overshoot, 'prior_only')], 'baseline');
  assert.match(line!, /^incident_zone over-prediction: baseline 12\.5x/);
  assert.match(line!, /closest to 1x without an oracle: all_tools_8b 3\.2x/);
});
