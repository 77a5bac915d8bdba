// Each fault of the simulator, produced as configured, and the latency
// model's queue as /metrics reports it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator, type FaultPlan } from '../src/backends/sim/server';
import { parseFaultSpec } from '../src/config/faults';
import { TceError, UsageError } from '../src/util/errors';
import { tce } from './helpers/cli';
import { scrapeMetrics } from '../src/backends/metrics-scrape';
import { PREDICT_PROMPT } from '../src/protocol/prompts';
import { scenePng, dataUrl } from './fake-vllm/scene-png';

const body = (stream = true) => JSON.stringify({
  model: 'p', stream, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl(scenePng(['cone'])) } }, { type: 'text', text: PREDICT_PROMPT }] }],
});

async function withSim<T>(faults: FaultPlan, fn: (s: Simulator) => Promise<T>, extra: Partial<Parameters<typeof startSimulator>[0]> = {}): Promise<T> {
  const s = await startSimulator({ seed: 1, faults, models: [{ servedModelName: 'p', profile: 'sceneiq-ft-2b' }], ...extra });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
const chat = (s: Simulator, stream = true) => fetch(`${s.baseUrl}/chat/completions`, { method: 'POST', body: body(stream) });

test('fault spec parsing names the bad item', () => {
  assert.deepEqual(parseFaultSpec('429=0.5,drop=0.1,stall-ms=20,die-after=3,health-down'), { statusRates: { 429: 0.5 }, dropRate: 0.1, stallMs: 20, dieAfter: 3, healthDown: true });
  assert.throws(() => parseFaultSpec('429=2'), /bad fault item '429=2'/);
  assert.throws(() => parseFaultSpec('boom'), (e: unknown) => e instanceof TceError && !(e instanceof UsageError) && e.code === 'FAULT_SPEC' && /bad fault item 'boom'/.test(e.message));
});

test('a bad --faults flag of tce serve-sim is a usage error (exit 2); the config layer itself throws no CLI error', async () => {
  const r = await tce(['serve-sim', '--faults', 'boom']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--faults: bad fault item 'boom'/);
});

test('status faults: 429, 500 and 503 with vLLM error bodies', async () => {
  for (const status of [429, 500, 503] as const) {
    await withSim({ statusRates: { [status]: 1 } }, async (s) => {
      const r = await chat(s);
      assert.equal(r.status, status);
      const j = await r.json() as { error: { code: number; message: string } };
      assert.equal(j.error.code, status);
    });
  }
  // A rate below 1 hits some requests, not all.
  await withSim({ statusRates: { 500: 0.5 } }, async (s) => {
    const codes = await Promise.all(Array.from({ length: 30 }, () => chat(s, false).then((r) => r.status)));
    assert.ok(codes.includes(500) && codes.includes(200), codes.join());
  });
});

test('stream faults: dropped connection, garbage line, mid-stream error event, stall', async () => {
  await withSim({ dropRate: 1 }, async (s) => {
    const r = await chat(s);
    assert.equal(r.status, 200);
    await assert.rejects(r.text(), /terminated|other side closed|socket/i);
  });
  await withSim({ garbageRate: 1 }, async (s) => {
    const evs = (await (await chat(s)).text()).split('\n\n').filter(Boolean);
    const bad = evs.filter((e) => { try { if (e !== 'data: [DONE]') JSON.parse(e.slice(6)); return false; } catch { return true; } });
    assert.equal(bad.length, 1);
    assert.equal(evs.at(-1), 'data: [DONE]');
  });
  await withSim({ midStreamErrorRate: 1 }, async (s) => {
    const r = await chat(s);
    assert.equal(r.status, 200);
    const evs = (await r.text()).split('\n\n').filter(Boolean);
    assert.equal(evs.at(-1), 'data: [DONE]');
    assert.equal(JSON.parse(evs.at(-2)!.slice(6)).error.code, 500);
  });
  await withSim({ stallRate: 1, stallMs: 400 }, async (s) => {
    const r = await chat(s);
    const reader = r.body!.getReader();
    const gaps: number[] = [];
    let last = Date.now();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      gaps.push(Date.now() - last);
      last = Date.now();
    }
    assert.ok(Math.max(...gaps) >= 350, `a pause mid-stream (${gaps.join(',')})`);
  });
});

test('engine death: /health 503, in-flight and later requests fail; health-down from the start', async () => {
  let died = 0;
  await withSim({ dieAfter: 1 }, async (s) => {
    const root = s.baseUrl.replace(/\/v1$/, '');
    assert.equal((await chat(s, false)).status, 200);
    assert.equal((await fetch(`${root}/health`)).status, 200);
    const r = await chat(s);
    const evs = (await r.text()).split('\n\n').filter(Boolean);
    assert.match(evs.at(-2)!, /EngineCore encountered an issue/);
    assert.equal((await fetch(`${root}/health`)).status, 503);
    assert.equal((await chat(s, false)).status, 500);
  }, { onEngineDeath: () => { died++; } });
  assert.equal(died, 1);
  await withSim({ healthDown: true }, async (s) => {
    assert.equal((await fetch(s.baseUrl.replace(/\/v1$/, '/health'))).status, 503);
  });
});

test('slow start: the server accepts connections only after the delay', async () => {
  const t0 = Date.now();
  await withSim({ slowStartMs: 300 }, async () => {
    assert.ok(Date.now() - t0 >= 300);
  });
});

test('latency model: a running cap with a waiting queue that /metrics reports', async () => {
  await withSim({}, async (s) => {
    const inflight = Array.from({ length: 6 }, () => chat(s).then((r) => r.text()));
    await new Promise((r) => setTimeout(r, 30));
    const m = await scrapeMetrics(s.baseUrl);
    assert.ok(m);
    assert.equal(m.running, 2);
    assert.equal(m.waiting, 4);
    assert.ok((m.kvCacheUsage ?? 0) > 0);
    await Promise.all(inflight);
    const after = await scrapeMetrics(s.baseUrl);
    assert.equal(after?.running, 0);
    assert.equal(after?.waiting, 0);
  }, { latency: { maxRunning: 2, prefillTokensPerS: 100_000, imageMs: 1, decodeMsPerToken: 3, kvCacheTokens: 10_000 } });
});

test('an answer does not depend on the faults before it: the models draw per conversation, not from a shared stream', async () => {
  const answer = async (s: Simulator): Promise<string> => {
    for (;;) {
      const r = await chat(s, false);
      if (r.status === 200) return ((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
      await r.body?.cancel();
    }
  };
  const healthy = await withSim({}, answer);
  // many refused requests first, then the answer: the same text
  await withSim({ statusRates: { 500: 0.7 } }, async (s) => {
    for (let i = 0; i < 10; i++) await (await chat(s, false)).body?.cancel();
    assert.equal(await answer(s), healthy);
  });
});
