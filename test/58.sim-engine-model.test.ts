// The continuous-batching engine model's arithmetic, by hand: step times
// from decode and prefill tokens, a continuation's prefix-cache hit, the
// mm cache, and recompute preemption when the KV cache is full. Virtual
// time only; nothing here is timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineModel, QWEN3_VL_8B_H100, type EngineConstants, type EngineRequest } from '../src/backends/sim/engine-model';
import { EndpointLimiter } from '../src/run/limiter';
import type { ServerMetrics } from '../src/backends/types';
import { startSimulator } from '../src/backends/sim/server';
import { PREDICT_PROMPT } from '../src/protocol/prompts';
import { scenePng, dataUrl } from './fake-vllm/scene-png';

const C: EngineConstants = {
  label: 'hand', stepBaseMs: 1, decodeMsPerSeq: 0.5, kvReadMsPer1kTokens: 1, prefillMsPerToken: 0.01, visionMsPerImage: 5,
  kvCapacityTokens: 64, blockTokens: 4, maxNumSeqs: 8, maxBatchedTokens: 100, mmCacheItems: 2,
};

function req(id: number, conversation: string, promptTokens: number, outputTokens: number, image: string | null = null): EngineRequest {
  return { id, conversation, sharedKey: 'sys', sharedTokens: 4, promptTokens, outputTokens, image, imageTokens: image ? 8 : 0 };
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('step time: a prefill step with its image, then a decode step', () => {
  const e = new EngineModel(C);
  e.submit(req(1, 'conv', 20, 2, 'img'));
  const s1 = e.step();
  // 1 base + 20 prefill tokens x 0.01 + one image x 5; the step samples the first token.
  close(s1.ms, 1 + 0.2 + 5);
  assert.equal(s1.prefillTokens, 20);
  assert.deepEqual(s1.finished, []);
  const s2 = e.step();
  // 1 base + one decoding sequence x 0.5 + 20 KV tokens read x 1/1000.
  close(s2.ms, 1 + 0.5 + 0.02);
  assert.equal(s2.decodeSeqs, 1);
  assert.deepEqual(s2.finished.map((r) => r.id), [1]);
  assert.ok(e.idle);
  assert.equal(e.step().ms, 0);
});

test('a continuation re-uses its conversation prefix; the image is not encoded again', () => {
  const e = new EngineModel(C);
  e.submit(req(1, 'conv', 20, 2, 'img'));
  e.step(); e.step();
  // Next turn: 20 prompt + 2 generated + 8 new tokens.
  e.submit(req(2, 'conv', 30, 1, 'img'));
  const s = e.step();
  // Cached: the 4 shared tokens and 17 own ones (20 computed + 1 decoded - 4 shared); 9 prefilled.
  assert.equal(s.prefillTokens, 9);
  close(s.ms, 1 + 9 * 0.01);
  assert.equal(e.stats.prefixQueryTokens, 20 + 30);
  assert.equal(e.stats.prefixHitTokens, 21);
  assert.equal(e.stats.imagesEncoded, 1);
  assert.equal(e.stats.mmQueries, 2);
  assert.equal(e.stats.mmHits, 1);
  // Another conversation only hits the shared prefix.
  e.submit(req(3, 'other', 12, 1));
  assert.equal(e.step().prefillTokens, 8);
});

test('a full KV cache preempts the newest sequence, which is recomputed and finishes later', () => {
  const e = new EngineModel(C);
  // 16 blocks of 4: each sequence owns 24 prompt tokens (6 blocks) past the 1 shared block.
  e.submit(req(1, 'a', 28, 20));
  e.submit(req(2, 'b', 28, 20));
  const order: number[] = [];
  for (let i = 0; i < 100 && e.stats.preemptions === 0; i++) order.push(...e.step().finished.map((r) => r.id));
  assert.equal(e.stats.preemptions, 1);
  assert.equal(e.runningCount, 1);
  assert.equal(e.waitingCount, 1);
  assert.equal(order.length, 0);
  for (let i = 0; i < 200 && !e.idle; i++) order.push(...e.step().finished.map((r) => r.id));
  assert.ok(e.idle);
  assert.deepEqual(order, [1, 2]);
  // The preempted sequence's parked blocks made its recomputation a prefix hit.
  assert.ok(e.stats.prefixHitTokens > 0);
});

test('a request larger than the KV cache is an error, not a hang', () => {
  const e = new EngineModel(C);
  e.submit(req(1, 'big', 200, 1));
  assert.throws(() => e.step(), /does not fit in the KV cache/);
});

test('the adaptive limit stops growing once the KV cache is nearly full, and still backs off on a queue', async () => {
  const l = new EndpointLimiter({ initial: 2, min: 1, max: 64, targetWaiting: 4 });
  await l.acquire(false); await l.acquire(false);
  void l.acquire(false); void l.acquire(false);
  const m = (waiting: number, kv: number | null): ServerMetrics => ({ waiting, running: 2, kvCacheUsage: kv, prefixCacheHits: null, prefixCacheQueries: null, mmCacheHits: null, mmCacheQueries: null, preemptions: null });
  l.adapt(m(0, 0.85));
  assert.equal(l.limit, 2);
  l.adapt(m(0, 0.5));
  assert.equal(l.limit, 3);
  l.adapt(m(0, null));
  assert.equal(l.limit, 4);
  l.adapt(m(10, 0.95));
  assert.equal(l.limit, 3);
});

test('the HTTP simulator with the engine model (opt-in) answers the same content, streamed and not, through a continuation', async () => {
  const first = [{ role: 'system', content: 'You verify scene predictions.' }, { role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl(scenePng(['cone'])) } }, { type: 'text', text: PREDICT_PROMPT }] }];
  const contents = async (engine: boolean): Promise<string[]> => {
    const s = await startSimulator({ seed: 1, models: [{ servedModelName: 'p', profile: 'sceneiq-ft-2b' }], ...(engine ? { engineModel: { constants: QWEN3_VL_8B_H100, timeScale: 0.001 } } : {}) });
    try {
      const ask = async (messages: unknown[], stream: boolean) => {
        const r = await fetch(`${s.baseUrl}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'p', stream, messages, max_tokens: 64 }) });
        assert.equal(r.status, 200);
        const t = await r.text();
        if (!stream) return (JSON.parse(t) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
        assert.ok(t.endsWith('data: [DONE]\n\n'));
        return t.split('\n').filter((l) => l.startsWith('data: {')).map((l) => (JSON.parse(l.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '').join('');
      };
      const a = await ask(first, true);
      const b = await ask([...first, { role: 'assistant', content: a }, { role: 'user', content: 'Check again.' }], false);
      const metrics = await (await fetch(`${s.baseUrl.replace(/\/v1$/, '')}/metrics`)).text();
      assert.match(metrics, /vllm:kv_cache_usage_perc\{[^}]*\} [0-9.e-]+/);
      return [a, b];
    } finally {
      await s.close();
    }
  };
  const [plain, modelled] = [await contents(false), await contents(true)];
  assert.ok(plain[0]!.length > 0);
  assert.deepEqual(modelled, plain);
});
