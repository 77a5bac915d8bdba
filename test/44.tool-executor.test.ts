import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { greedyOf, sample } from './4-tools-fixture';
import { computeToolStats } from '../src/tools/stats';
import { createToolExecutor } from '../src/tools/executor';
import { TOOL_NAMES } from '../src/protocol/tools';
import type { GreedyPrediction, Sample } from '../src/domain/sample';
import type { ToolInvocation, ToolOutcome } from '../src/tools/types';

const samples: Sample[] = [];
const greedy = new Map<number, GreedyPrediction>();
for (let i = 0; i < 40; i++) { samples.push(sample(i, i % 4 === 0 ? 'incident_zone' : 'nominal')); greedy.set(i, greedyOf(i, 'incident_zone')); }
const stats = computeToolStats(samples, greedy, {});

let nextId = 0;
const call = (name: string | null, args: unknown, extra: Partial<ToolInvocation> = {}): ToolInvocation => ({ id: nextId++, sampleId: 0, name, arguments: args, offered: TOOL_NAMES, ...extra });
const body = (o: ToolOutcome) => JSON.parse(o.responseJson) as Record<string, unknown>;

test('every kind of bad call becomes a readable response and a validity record', async () => {
  const ex = createToolExecutor({ stats, dispatch: 'inline' });
  const cases: Array<[ToolInvocation, string | null, Partial<Record<string, boolean>>, RegExp]> = [
    [call(null, {}), 'unparsed', { parsed: false }, /no tool name/],
    [call('check_scene_prior', [1, 2]), 'unparsed', { parsed: false }, /must be a JSON object \(found \[1,2\]\)/],
    [call('check_scene_prior', '{"predicted_scene": '), 'unparsed', { parsed: false }, /must be a JSON object/],
    [call('check_scene_type', { predicted_scene: 'nominal' }), 'unknown_tool', { parsed: true, knownTool: false }, /unknown tool 'check_scene_type'/],
    [call('check_scene_prior', { predicted_scene: 'nominal' }, { offered: ['check_confusion_risk'] }), 'unknown_tool', { knownTool: false }, /not available here/],
    [call('check_scene_action_compatibility', { scene: 'nominal' }), 'missing_args', { knownTool: true, requiredArgsPresent: false, schemaValid: false }, /missing required argument 'long_action'; missing required argument 'lat_action'/],
    [call('check_scene_prior', null), 'missing_args', { requiredArgsPresent: false }, /missing required argument 'predicted_scene'/],
    [call('check_scene_prior', { predicted_scene: 'Nominal' }), 'invalid_args', { requiredArgsPresent: true, schemaValid: false }, /'predicted_scene' must be nominal\|flooded\|incident_zone\|mounted_police\|flagger \(found "Nominal"\)/],
    [call('check_waypoint_feasibility', { scene: 'nominal', long_action: 'null', first_waypoint_x: '1.5', first_waypoint_y: 0 }), 'invalid_args', { schemaValid: false }, /'first_waypoint_x' must be number \(found "1\.5"\)/],
    [call('check_scene_prior', '{"predicted_scene": "nominal"}'), null, { parsed: true, schemaValid: true, executedOk: true }, /./],
    [call('check_scene_prior', { predicted_scene: 'nominal', confidence: 0.9 }), null, { executedOk: true }, /./],
  ];
  const outs = await ex.executeBatch(cases.map((c) => c[0]));
  assert.equal(outs.length, cases.length);
  outs.forEach((o, i) => {
    const [c, kind, flags, msg] = cases[i]!;
    assert.equal(o.id, c.id, 'outcomes come back in call order with their ids');
    assert.equal(o.validity.errorKind ?? null, kind, `case ${i}: ${o.validity.error}`);
    for (const [k, v] of Object.entries(flags)) assert.equal((o.validity as unknown as Record<string, boolean>)[k], v, `case ${i} ${k}`);
    const b = body(o);
    if (kind === null) { assert.equal(o.validity.error, null); assert.ok('verdict' in b); return; }
    assert.match(String(b['error']), msg, `case ${i}`);
    assert.ok('expected' in b, 'errors say what was expected');
    assert.ok(o.validity.error!.startsWith(`${kind}: `));
    assert.equal(o.validity.executedOk, false);
  });
  assert.deepEqual(body(outs[3]!)['expected'], { name: TOOL_NAMES });
  assert.deepEqual(body(outs[7]!)['expected'], { predicted_scene: 'nominal|flooded|incident_zone|mounted_police|flagger' });
  await ex.close();
});

test('inline, pooled and auto dispatch give the same responses, in order', async () => {
  const calls = Array.from({ length: 30 }, (_, i) => i % 3 === 0
    ? call('check_confusion_risk', { predicted_scene: 'incident_zone' }, { sampleId: i })
    : i % 3 === 1 ? call('check_scene_prior', { predicted_scene: 'flagger' }, { sampleId: i }) : call('nope', {}, { sampleId: i }));
  const results: string[][] = [];
  for (const dispatch of ['inline', 'pool', 'auto'] as const) {
    const ex = createToolExecutor({ stats, dispatch, poolThreads: 1 });
    const outs = await ex.executeBatch(calls);
    results.push(outs.map((o) => `${o.id}:${o.responseJson}`));
    assert.ok(outs.every((o) => o.timeUs >= 0));
    await ex.close();
  }
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
});

test('with cross-fitted statistics a sample is answered from the folds that exclude it', async () => {
  // 4 samples, 2 folds; the incident_zone predictions of each fold differ in correctness.
  const s4 = [sample(1, 'incident_zone'), sample(2, 'nominal'), sample(3, 'incident_zone'), sample(4, 'nominal')];
  const g4 = new Map(s4.map((s) => [s.sampleId, greedyOf(s.sampleId, 'incident_zone')]));
  const cf = computeToolStats(s4, g4, { crossFit: 2, seed: 3 });
  const ex = createToolExecutor({ stats: cf, dispatch: 'inline' });
  const outs = await ex.executeBatch(s4.map((s) => call('check_confusion_risk', { predicted_scene: 'incident_zone' }, { sampleId: s.sampleId })));
  for (const [i, s] of s4.entries()) {
    const f = cf.crossFit!.folds[cf.crossFit!.sampleIds.indexOf(s.sampleId)]!;
    const others = s4.filter((x) => cf.crossFit!.folds[cf.crossFit!.sampleIds.indexOf(x.sampleId)] !== f);
    const wrong = others.filter((x) => x.sceneGt !== 'incident_zone').length;
    assert.deepEqual(body(outs[i]!)['wrong_given_pred'], [wrong, others.length], `sample ${s.sampleId} sees only the other fold`);
  }
  await ex.close();
});

function writeTool(dir: string, name: string, runBody: string, prelude = ''): string {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, `${prelude}const { z } = require(${JSON.stringify(require.resolve('zod'))});
exports.tool = { name: ${JSON.stringify(name)}, description: 'test tool', parameters: z.object({ n: z.number() }),
  run: (a) => { ${runBody} } };\n`);
  return file;
}

test('a tool that throws or hangs is caught and timed out; the rest of the batch is answered', async () => {
  const dir = tmpDir();
  const mods = [
    writeTool(dir, 'boom', "throw new Error('kaput');"),
    // a synchronous hang that blocks its thread without burning a core
    writeTool(dir, 'spin', 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); return { verdict: "plausible", note: "" };'),
    writeTool(dir, 'sleepy', 'return new Promise(() => {});'),
    writeTool(dir, 'echo', 'return { verdict: "plausible", note: "n=" + a.n };'),
    writeTool(dir, 'fortytwo', 'return 42;'),
  ];
  const offered = [...TOOL_NAMES, 'boom', 'spin', 'sleepy', 'echo', 'fortytwo'];
  // The deadline counts from a worker beginning the call, so a replacement
  // worker's start after a kill does not eat into it (see the next test).
  const ex = createToolExecutor({ stats, dispatch: 'auto', timeoutMs: 1000, poolThreads: 2, extraModules: mods });
  const t0 = Date.now();
  const outs = await ex.executeBatch([
    call('echo', { n: 1 }, { offered }), call('boom', { n: 1 }, { offered }), call('spin', { n: 1 }, { offered }),
    call('sleepy', { n: 1 }, { offered }), call('check_scene_prior', { predicted_scene: 'nominal' }, { offered }), call('echo', { n: 2 }, { offered }),
  ]);
  assert.ok(Date.now() - t0 < 10_000, 'a hung tool costs its timeout, not the run');
  assert.deepEqual(outs.map((o) => o.validity.errorKind ?? 'ok'), ['ok', 'tool_failed', 'timeout', 'timeout', 'ok', 'ok']);
  assert.match(String(body(outs[1]!)['error']), /boom failed: kaput/);
  assert.match(String(body(outs[2]!)['error']), /spin did not answer within 1000 ms/);
  assert.equal(body(outs[5]!)['note'], 'n=2');
  assert.ok(outs.slice(1, 4).every((o) => o.validity.schemaValid && !o.validity.executedOk));
  // The pool replaced the killed worker and keeps working.
  const again = await ex.executeBatch([call('echo', { n: 3 }, { offered }), call('fortytwo', { n: 1 }, { offered })]);
  assert.equal(body(again[0]!)['note'], 'n=3');
  assert.equal(again[1]!.validity.errorKind, 'tool_failed');
  assert.match(String(body(again[1]!)['error']), /fortytwo failed: returned 42 instead of a JSON object/);
  await ex.close();
  // Inline, an async hang is timed out too (a synchronous one can only be stopped in the pool).
  const inline = createToolExecutor({ stats, dispatch: 'inline', timeoutMs: 100, extraModules: mods.filter((m) => !m.includes('spin')) });
  const [o] = await inline.executeBatch([call('sleepy', { n: 1 }, { offered })]);
  assert.equal(o!.validity.errorKind, 'timeout');
  await inline.close();
});

test('a call\'s deadline starts when a worker begins it, not while the worker is starting', async () => {
  // The tool module takes 0.7 s to load in a pool worker (not in the main
  // thread, which loads it only to check calls), over twice the deadline: a
  // deadline counting the worker's start would time the fast call out.
  const slow = writeTool(tmpDir(), 'slowstart', 'return { verdict: "plausible", note: "n=" + a.n };',
    "if (!require('node:worker_threads').isMainThread) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700);\n");
  const offered = [...TOOL_NAMES, 'slowstart'];
  const ex = createToolExecutor({ stats, dispatch: 'pool', timeoutMs: 300, poolThreads: 1, extraModules: [slow] });
  const outs = await ex.executeBatch([call('slowstart', { n: 1 }, { offered }), call('check_scene_prior', { predicted_scene: 'nominal' }, { offered })]);
  assert.deepEqual(outs.map((o) => o.validity.errorKind ?? 'ok'), ['ok', 'ok'], outs.map((o) => o.validity.error).join('; '));
  assert.equal(body(outs[0]!)['note'], 'n=1');
  await ex.close();
});

test('options are validated; a closed executor answers with errors instead of rejecting', async () => {
  assert.throws(() => createToolExecutor({ stats, dispatch: 'fast' as never }), /dispatch must be 'auto', 'inline' or 'pool' \(found fast\)/);
  assert.throws(() => createToolExecutor({ stats, timeoutMs: 0 }), /timeoutMs must be a positive integer/);
  const ex = createToolExecutor({ stats, dispatch: 'pool', poolThreads: 1 });
  await ex.close();
  const [o] = await ex.executeBatch([call('check_scene_prior', { predicted_scene: 'nominal' })]);
  assert.equal(o!.validity.errorKind, 'tool_failed');
  assert.match(o!.responseJson, /closed/);
});
