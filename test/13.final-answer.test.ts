// Final-answer parsing (src/extract/answer.ts): the plan's verify block, the
// predictor's output and the staged turns, with formatting noise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INVALID, normalizeLatAction, normalizeLongAction, normalizeScene, parseAnswer, scanAnswerLines } from '../src/extract/answer';
import { extractText } from '../src/extract/extract';
import { PackedReader } from '../src/extract/packed';
import { requireNative } from '../src/native/loader';
import { rng } from './helpers/extract-fuzz';

test('normalisers map spellings to the enums and flag unknown values', () => {
  assert.equal(normalizeScene('Incident Zone'), 'incident_zone');
  assert.equal(normalizeScene('**mounted-police**.'), 'mounted_police');
  assert.equal(normalizeScene('<flooded>'), 'flooded');
  assert.equal(normalizeScene('construction'), INVALID);
  assert.equal(normalizeLongAction('None'), 'null');
  assert.equal(normalizeLongAction('Slow down'), 'slowdown');
  assert.equal(normalizeLongAction('accelerate'), INVALID);
  assert.equal(normalizeLatAction('none'), 'null');
  assert.equal(normalizeLatAction('LC_RIGHT'), 'lc_right');
  assert.equal(normalizeLatAction('lane change left'), 'lc_left');
  assert.equal(normalizeLatAction('left'), INVALID);
});

test('verify: the plan block, tolerant of case, bold, list markers; REVISED and REASON', () => {
  const a = parseAnswer('After checking:\n- **FINAL_SCENE:** Incident Zone\n* final_long_action: stop\n1. Final Lat Action: none\nREVISED: Yes\nREASON: the prior is rare.', 'verify');
  assert.deepEqual(a, { status: 'ok', scene: 'incident_zone', longAction: 'stop', latAction: 'null', revised: true, reason: 'the prior is rare.', waypoints: null, invalid: [] });
});

test('the last statement of a field wins', () => {
  const a = parseAnswer('FINAL_SCENE: nominal\nFINAL_LONG_ACTION: proceed\nFINAL_LAT_ACTION: null\nOn reflection:\nFINAL_SCENE: flagger', 'verify');
  assert.equal(a.scene, 'flagger');
  assert.equal(a.status, 'ok');
});

test('missing, incomplete and invalid values are statuses, never defaults', () => {
  assert.equal(parseAnswer('I am not sure.', 'verify').status, 'missing');
  const inc = parseAnswer('FINAL_SCENE: flooded', 'verify');
  assert.equal(inc.status, 'incomplete');
  assert.equal(inc.longAction, null);
  const bad = parseAnswer('FINAL_SCENE: construction zone\nFINAL_LONG_ACTION: stop\nFINAL_LAT_ACTION: null', 'verify');
  assert.equal(bad.status, 'invalid_value');
  assert.equal(bad.scene, null);
  assert.deepEqual(bad.invalid, [{ field: 'scene', value: 'construction zone' }]);
  // verify reads FINAL_* labels only: a bare SCENE line is not its answer
  assert.equal(parseAnswer('SCENE: nominal', 'verify').status, 'missing');
});

test('predict and staged turns: plain labels and multi-line waypoints', () => {
  const p = parseAnswer('SCENE: flooded\nLONG_ACTION: slowdown\nLAT_ACTION: lc_left\nWAYPOINTS: [[1.5, 0],\n [3, -0.25]]', 'predict');
  assert.deepEqual(p, { status: 'ok', scene: 'flooded', longAction: 'slowdown', latAction: 'lc_left', revised: null, reason: null, waypoints: [[1.5, 0], [3, -0.25]], invalid: [] });
  assert.deepEqual(parseAnswer('SCENE: Nominal', 'stage_scene').scene, 'nominal');
  assert.equal(parseAnswer('LONG_ACTION: stop\nLAT_ACTION: None', 'stage_action').status, 'ok');
  const w = parseAnswer('WAYPOINTS: [[1, 2], [3]]', 'stage_waypoints');
  assert.equal(w.status, 'invalid_value');
  assert.deepEqual(w.invalid, [{ field: 'waypoints', value: '[[1, 2], [3]]' }]);
});

test('the native line scan gives exactly what scanAnswerLines() gives (seeded fuzz)', () => {
  const addon = requireNative();
  const r = rng(Number(process.env['TCE_FUZZ_SEED'] ?? 20261122));
  const pick = (xs: readonly string[]) => xs[Math.floor(r() * xs.length)]!;
  const some = (xs: readonly string[], max: number) => Array.from({ length: Math.floor(r() * (max + 1)) }, () => pick(xs)).join('');
  // Pieces on every edge of the line pattern: list markers, emphasis runs,
  // blanks, lazy labels with '_' and spaces, stray colons, brackets over
  // several lines, and bytes that make the native side hand the text back
  // (non-ASCII, CR, other controls).
  const lead = [' ', '\t', '-', '*', '+', '>', '#', '##', '1.', '12)', '3', '.', ')', '**', '_', '__', '***', 'x'];
  const labels = ['FINAL_SCENE', 'final scene', 'Final_Long_Action', 'FINAL  LAT\tACTION', 'REVISED', 'REASON', 'SCENE', 'WAYPOINTS', 'waypoints_', 'A', 'B_', 'a b '];
  const mid = [' ', '\t', '*', '**', '_', '__', '___', ':', 'x'];
  const values = ['incident zone', 'Incident_Zone', '**stop**', 'none', '__yes__', ' slow down ', '[[1, 2],', '[[1.5, 0],\n [3, -0.25]]', ']', '[', 'a: b', '*', '_', ''];
  const odd = ['é', '\r', '\u000b', '\u2028', '\u0000', '\u007f'];
  for (let round = 0; round < 300; round++) {
    const texts = Array.from({ length: 20 }, () => {
      const lines = Array.from({ length: 1 + Math.floor(r() * 6) }, () =>
        some(lead, 3) + pick(labels) + some(mid, 2) + (r() < 0.9 ? ':' : '') + some(mid, 2) + some(values, 2));
      let s = lines.join('\n');
      if (r() < 0.1) {
        const at = Math.floor(r() * (s.length + 1));
        s = s.slice(0, at) + pick(odd) + s.slice(at);
      }
      return s;
    });
    const p = new PackedReader(addon.extractTexts(texts, []));
    for (const text of texts) {
      const content = p.str(text);
      p.str();
      p.calls();
      const lines = p.answerLines();
      assert.equal(lines !== null, /^[\x20-\x7e\t\n]*$/.test(content), JSON.stringify(content));
      if (lines) assert.deepEqual(lines, scanAnswerLines(content), JSON.stringify(content));
      for (const kind of ['verify', 'predict', 'stage_waypoints'] as const) {
        assert.deepEqual(extractText(text, { knownTools: [], answerKind: kind }, 'native').finalAnswer, parseAnswer(content, kind), JSON.stringify(text));
      }
    }
  }
});
