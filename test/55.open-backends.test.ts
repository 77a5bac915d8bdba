// openBackends for the simulator (synthetic, one server per model) and for
// listed endpoints, used exactly like spawned servers.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/load';
import { openBackends } from '../src/backends/open';
import { startSimulatorThread } from '../src/backends/sim/thread-host';
import { verificationPrompt } from '../src/protocol/prompts';
import { tmpDir } from './helpers/cli';
import { scenePng, dataUrl } from './fake-vllm/scene-png';

const roles = ['predictor', 'verifier_2b', 'verifier_8b'] as const;

test('simulator backend: synthetic, one server per model with its profile, keys required, metrics per role', async () => {
  const set = await openBackends(parseConfig({ backend: { simulator: { faults: '' } } }, 'test'), { runDir: tmpDir(), roles: [...roles] });
  try {
    assert.equal(set.kind, 'simulator');
    assert.equal(set.synthetic, true);
    const e = set.endpoints.verifier_8b!;
    assert.equal(e.model, 'qwen3-vl-8b');
    const body = JSON.stringify({ model: e.model, tools: [{ type: 'function', function: { name: 'check_scene_prior' } }], tool_choice: 'none', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl(scenePng(['flagger_vest', 'flag'])) } }, { type: 'text', text: verificationPrompt({ scene: 'flagger', longAction: 'stop', latAction: 'null' }) }] }] });
    const ok = await fetch(`${e.baseUrl}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${e.apiKey}` }, body });
    assert.equal(ok.status, 200);
    const noKey = await fetch(`${e.baseUrl}/chat/completions`, { method: 'POST', body });
    assert.equal(noKey.status, 401);
    const m = await set.metrics('verifier_8b');
    assert.ok(m && (m.prefixCacheQueries ?? 0) > 0);
    const other = await set.metrics('predictor');
    assert.equal(other?.prefixCacheQueries, 0, 'each model has its own server');
  } finally {
    await set.close();
  }
});

test('endpoints backend: config URLs are used as given; a missing role names the field', async () => {
  // The simulator thread that test 1 started serves here too (one tokenizer load per process).
  const sim = await startSimulatorThread({ seed: 1, apiKey: 'secret', models: [{ servedModelName: 'remote-8b', profile: 'qwen3-vl-8b' }] });
  try {
    const cfg = parseConfig({ backend: { kind: 'endpoints', endpoints: [{ model: 'verifier_8b', url: sim.baseUrl, apiKey: 'secret', servedModelName: 'remote-8b', maxInFlight: 8 }] } }, 'test');
    const set = await openBackends(cfg, { runDir: tmpDir(), roles: ['verifier_8b'] });
    assert.equal(set.synthetic, false);
    assert.deepEqual(set.endpoints.verifier_8b, { role: 'verifier_8b', baseUrl: sim.baseUrl, apiKey: 'secret', model: 'remote-8b', maxInFlight: 8 });
    assert.ok(await set.metrics('verifier_8b'));
    await set.close();
    await assert.rejects(openBackends(cfg, { runDir: tmpDir(), roles: ['predictor', 'verifier_8b'] }), /backend\.endpoints has no entry for predictor/);
  } finally {
    await sim.close();
  }
});

test('the simulator thread: several servers, start errors come back with their message, close frees the port', async () => {
  await assert.rejects(startSimulatorThread({ seed: 1, models: [{ servedModelName: 'm', profile: 'no-such-profile' }] }), /unknown profile 'no-such-profile'/);
  const [a, b] = await Promise.all([0, 1].map(() => startSimulatorThread({ seed: 1, models: [{ servedModelName: 'm', profile: 'echo' }] })));
  assert.notEqual(a!.port, b!.port);
  assert.equal((await fetch(`http://127.0.0.1:${a!.port}/health`)).status, 200);
  await a!.close();
  await a!.close();
  await assert.rejects(fetch(`http://127.0.0.1:${a!.port}/health`));
  assert.equal((await fetch(`http://127.0.0.1:${b!.port}/health`)).status, 200);
  await b!.close();
});

test('a bad fault spec in the config names the field when the config loads, before any backend opens', () => {
  assert.throws(() => parseConfig({ backend: { simulator: { faults: 'explode=1' } } }, 'test'), /test: backend\.simulator\.faults: bad fault item 'explode=1'/);
});

test('a prewarmed simulator thread with no server open does not hold the process open', () => {
  // A run that fails while loading its data has prewarmed the thread but never started a server.
  const threadHost = require.resolve('../src/backends/sim/thread-host');
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(threadHost)}).prewarmSimulatorThread()`], { timeout: 20_000 });
  assert.equal(r.signal, null, 'the process was still running after 20 s');
  assert.equal(r.status, 0, r.stderr.toString());
});
