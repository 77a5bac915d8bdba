import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONDITIONS, conditionById, experimentId, runTimestamp } from '../src/protocol/conditions';
import { EndpointLimiter } from '../src/run/limiter';
import { backoffMs } from '../src/run/turn';
import { verifierSize } from '../src/cli/verifier-model';
import { parseShard } from '../src/cli/run-options';
import { selectSamples } from '../src/run/suite';
import { loadConfig } from '../src/config/load';
import { requestBody, storedRequest, type ChatMessage, type TurnParams } from '../src/run/chat-request';
import { imageHeadsHeld, streamedBodyBytes, userWithImage } from '../src/run/request-body';
import { openAiTools } from '../src/tools/registry';
import type { Sample } from '../src/domain/sample';
import type { RunWriter } from '../src/store/rows';
import { runTasks, type ExperimentProgress, type ExperimentTask } from '../src/run/experiment';
import { loadPromptSet } from '../src/run/prompt-set';
import { ConfigSchema } from '../src/config/schema';

test('the condition table yields the plan\'s 11 conditions with the plan\'s tools, and the no_tools controls', () => {
  assert.equal(CONDITIONS.length, 13);
  assert.equal(CONDITIONS.filter((c) => !c.control).length, 11);
  assert.deepEqual(CONDITIONS.filter((c) => c.control).map((c) => [c.id, c.tools.length, c.pipeline, c.verifier]), [['no_tools_2b', 0, 'A', true], ['no_tools_8b', 0, 'A', true]]);
  assert.deepEqual(CONDITIONS.filter((c) => c.firstAnswer).map((c) => c.id), ['staged_2b', 'staged_8b']);
  assert.deepEqual(CONDITIONS.map((c) => c.id), ['baseline', 'oracle_2b', 'oracle_8b', 'no_tools_2b', 'no_tools_8b', 'prior_only_2b', 'prior_only_8b', 'confusion_only_2b', 'confusion_only_8b', 'all_tools_2b', 'all_tools_8b', 'staged_2b', 'staged_8b']);
  assert.deepEqual(conditionById('prior_only_8b').tools, ['check_scene_prior']);
  assert.deepEqual(conditionById('confusion_only_2b').tools, ['check_confusion_risk']);
  assert.equal(conditionById('all_tools_2b').tools.length, 4);
  assert.equal(conditionById('staged_8b').pipeline, 'B');
  // Pipeline B offers one tool per stage, three in all; tools_enabled records exactly these.
  assert.deepEqual(conditionById('staged_8b').stages.map((s) => [s.name, s.tools]), [
    ['stage_scene', ['check_confusion_risk']], ['stage_action', ['check_scene_action_compatibility']], ['stage_waypoints', ['check_waypoint_feasibility']],
  ]);
  assert.deepEqual(conditionById('staged_2b').tools, ['check_confusion_risk', 'check_scene_action_compatibility', 'check_waypoint_feasibility']);
  for (const c of CONDITIONS) if (c.pipeline === 'A') assert.deepEqual(c.stages, [], c.id);
  assert.equal(conditionById('oracle_2b').oracle, true);
  assert.equal(conditionById('oracle_2b').role, 'verifier_2b');
  assert.throws(() => conditionById('nope'), /unknown condition/);
});

test('experiment ids follow tc_{condition}_{verifier_size}_{timestamp}', () => {
  const ts = runTimestamp(new Date(Date.UTC(2026, 1, 16, 12, 0, 0)));
  assert.equal(ts, '20260216_120000');
  assert.equal(experimentId(conditionById('all_tools_8b'), ts), 'tc_all_tools_8b_20260216_120000');
  assert.equal(experimentId(conditionById('baseline'), ts), 'tc_baseline_20260216_120000');
});

test('the limiter admits continuations before first turns and adapts to the server queue', async () => {
  const l = new EndpointLimiter({ initial: 1, min: 1, max: 8, targetWaiting: 2 });
  await l.acquire(false);
  const order: string[] = [];
  const a = l.acquire(false).then(() => order.push('new'));
  const b = l.acquire(true).then(() => order.push('continuation'));
  assert.equal(l.queued, 2);
  l.release();
  await b;
  l.release();
  await a;
  assert.deepEqual(order, ['continuation', 'new']);
  l.release();
  // grows while requests queue here and the server keeps up
  for (let i = 0; i < 4; i++) void l.acquire(false);
  l.adapt({ waiting: 0, running: 1, kvCacheUsage: null, prefixCacheHits: null, prefixCacheQueries: null, mmCacheHits: null, mmCacheQueries: null, preemptions: null });
  assert.ok(l.limit > 1, `limit grew to ${l.limit}`);
  const grown = l.limit;
  l.adapt({ waiting: 50, running: 8, kvCacheUsage: 0.9, prefixCacheHits: null, prefixCacheQueries: null, mmCacheHits: null, mmCacheQueries: null, preemptions: null });
  assert.ok(l.limit < grown, 'backs off when the server queues');
});

test('retry backoff is exponential, jittered and capped', () => {
  const p = { max: 4, baseDelayMs: 100, maxDelayMs: 1000, requestTimeoutMs: 1000 };
  assert.equal(backoffMs(0, p, () => 1), 100);
  assert.equal(backoffMs(0, p, () => 0), 50);
  assert.equal(backoffMs(3, p, () => 1), 800);
  assert.equal(backoffMs(10, p, () => 1), 1000);
});

test('--verifier-model accepts sizes, configured paths and paths naming the size', () => {
  const c = loadConfig({ file: undefined }).config;
  assert.equal(verifierSize(c, '8b').size, '8b');
  assert.equal(verifierSize(c, '/fsx/models/Qwen3-VL-2B-Instruct').size, '2b');
  assert.equal(verifierSize(c, '/other/Qwen3-VL-8B-Instruct-AWQ').size, '8b');
  assert.throws(() => verifierSize(c, '/models/mystery'), /cannot tell/);
  assert.throws(() => verifierSize(c, undefined), /required/);
});

test('--shard and --limit select disjoint, covering subsets', () => {
  assert.deepEqual(parseShard('1/4'), { index: 1, count: 4 });
  assert.throws(() => parseShard('4/4'), /0 <= I < N/);
  assert.throws(() => parseShard('x'), /I\/N/);
  const samples = Array.from({ length: 10 }, (_, i) => ({ sampleId: 100 - i }) as Sample);
  const parts = [0, 1, 2].map((index) => selectSamples(samples, undefined, { index, count: 3 }).map((s) => s.sampleId));
  assert.equal(parts.flat().length, 10);
  assert.equal(new Set(parts.flat()).size, 10);
  assert.deepEqual(selectSamples(samples, 3).map((s) => s.sampleId), [91, 92, 93]);
});

test('stored requests keep images as references, never their bytes', () => {
  const msgs = [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text' as const, text: 'hi' }] }];
  const s = storedRequest(msgs, 0, () => 'sha256:abc#sample=7', { tools: [], toolNames: [], parseMode: 'client', maxTokens: 10, temperature: 0, seed: 1 }, 'm').json;
  assert.ok(!s.includes('base64'));
  assert.match(s, /sha256:abc#sample=7/);
});

test('the streamed body from cached parts is byte for byte JSON.stringify(requestBody), turn after turn', () => {
  const ep = { role: 'verifier_8b' as const, baseUrl: 'http://x/v1', apiKey: 'k', model: 'qwen3-vl-8b "quoted" \u00e9' };
  const messages: ChatMessage[] = [
    { role: 'system', content: 'sys \u2028 "q"' },
    { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: 'verify \u00fc\n' }] },
  ];
  const withTools: TurnParams = { tools: openAiTools(['check_scene_prior', 'check_confusion_risk']), toolNames: ['check_scene_prior', 'check_confusion_risk'], parseMode: 'client', maxTokens: 512, temperature: 0, seed: 42 };
  const server: TurnParams = { ...withTools, parseMode: 'server', temperature: 0.7 };
  const none: TurnParams = { tools: [], toolNames: [], parseMode: 'client', maxTokens: 64, temperature: 0, seed: 1 };
  const same = (p: TurnParams) => assert.equal(streamedBodyBytes(ep, messages, p).toString('utf8'), JSON.stringify(requestBody(ep, messages, p, true)));
  for (const p of [withTools, server, none]) same(p);
  // The loop appends; earlier messages' cached bytes are reused, the new ones encoded once.
  messages.push({ role: 'assistant', content: '<tool_call>{"name": "check_scene_prior"}</tool_call>', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'check_scene_prior', arguments: '{}' } }] });
  messages.push({ role: 'tool', content: '{"verdict": "plausible"}', tool_call_id: 'c1' });
  for (const p of [withTools, server, none]) same(p);
  assert.equal(streamedBodyBytes(ep, [], none).toString(), JSON.stringify(requestBody(ep, [], none, true)));
});

test('first messages with the same image share its JSON, each conversation keeps its own object, and the cache is bounded', () => {
  const ep = { role: 'verifier_2b' as const, baseUrl: 'http://x/v1', apiKey: 'k', model: 'm' };
  const p: TurnParams = { tools: openAiTools(['check_scene_prior']), toolNames: ['check_scene_prior'], parseMode: 'client', maxTokens: 8, temperature: 0, seed: 1 };
  const url = `data:image/png;base64,${'A'.repeat(40_000)}`;
  const before = imageHeadsHeld().entries;
  const a = userWithImage(url, 'check "this"\n');
  const b = userWithImage(url, 'check "this"\n');
  const c = userWithImage(url, 'another prompt');
  // One head for the three messages of the image.
  assert.equal(imageHeadsHeld().entries, before + 1);
  // Distinct objects: replica affinity is keyed by the first message's identity.
  assert.notEqual(a, b);
  for (const m of [a, b, c]) assert.equal(streamedBodyBytes(ep, [m], p).toString('utf8'), JSON.stringify(requestBody(ep, [m], p, true)));
  assert.notEqual(streamedBodyBytes(ep, [a], p).toString(), streamedBodyBytes(ep, [c], p).toString());
  // More image bytes than the cache holds (70 MiB): the held bytes stay
  // bounded and the bodies stay exact, checked on every tenth image and the
  // last (each check encodes a MiB twice; every image takes the same path).
  for (let i = 0; i < 70; i++) {
    const m = userWithImage(`data:image/png;base64,${i}${'B'.repeat(1024 * 1024)}`, 't');
    if (i % 10 === 0 || i === 69) assert.equal(streamedBodyBytes(ep, [m], p).toString('utf8'), JSON.stringify(requestBody(ep, [m], p, true)));
  }
  const held = imageHeadsHeld();
  assert.ok(held.bytes <= 64 * 1024 * 1024 && held.entries < 64, JSON.stringify(held));
  const again = userWithImage(url, 'check "this"\n');
  assert.equal(streamedBodyBytes(ep, [again], p).toString('utf8'), JSON.stringify(requestBody(ep, [again], p, true)));
});

test('a writer that throws in append() rejects runTasks with its error, stops new samples, and leaves no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  try {
    const samples: Sample[] = Array.from({ length: 50 }, (_, i) => ({ sampleId: i, chumUri: null, sceneGt: 'nominal', longActionGt: 'proceed', latActionGt: 'null', fineClass: null, oddLabel: null, location: null, waypointsGt: null, image: null, imageMime: null }));
    let appended = 0;
    const writer: RunWriter = {
      experimentId: 'tc_baseline_x', dir: '/nonexistent',
      doneSampleIds: () => new Set(),
      append() { appended++; if (appended === 3) throw new Error('disk full'); },
      flush: () => Promise.resolve(),
      finish: () => Promise.resolve(),
    };
    const progress: ExperimentProgress = { experimentId: 'tc_baseline_x', conditionId: 'baseline', role: 'reused', total: 50, done: 0, resumed: 0, failed: 0, turns: 0, toolCalls: 0, startedAt: 0, firstStartMs: null, lastEndMs: null };
    const task: ExperimentTask = { experimentId: 'tc_baseline_x', condition: conditionById('baseline'), writer, samples, totalSamples: 50, greedy: new Map(), prompts: loadPromptSet(ConfigSchema.parse({})), context: null, limiter: null, image: () => ({ url: '', sha: null }), livePredict: false, progress };
    await assert.rejects(runTasks(samples.map((sample) => ({ task, sample })), () => 4, { aborted: false }), /disk full/);
    // give any stray rejection a chance to surface
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
    assert.ok(appended < samples.length, `no new samples after the failure (appended ${appended})`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test("the driver's undici Pool, required by its module path, is the package's exported Pool", () => {
  // src/run/turn.ts requires undici/lib/dispatcher/pool (the index loads much
  // that tce never uses); an undici that moves or replaces that module fails here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  assert.equal(require('undici/lib/dispatcher/pool'), require('undici').Pool);
});
