// The vLLM pool against the fake `vllm` on PATH: three models on three
// "GPUs", startup failures with the log tail, engine death, waves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseConfig } from '../src/config/load';
import { openBackends } from '../src/backends/open';
import { isGroupAlive } from '../src/backends/vllm/reaper';
import { VllmPool } from '../src/backends/vllm/pool';
import type { TceError } from '../src/util/errors';
import { PREDICT_PROMPT } from '../src/protocol/prompts';
import { ROOT, tmpDir } from './helpers/cli';
import { scenePng, dataUrl } from './fake-vllm/scene-png';

const FAKE_DIR = path.join(ROOT, 'test', 'fake-vllm');
const PATH = process.env.PATH;
before(() => {
  process.env.PATH = `${FAKE_DIR}${path.delimiter}${PATH}`;
});
// Test files share a process (scripts/run-tests.js): the next one gets PATH back.
after(() => {
  if (PATH === undefined) delete process.env.PATH;
  else process.env.PATH = PATH;
});

const config = (extra: Record<string, unknown> = {}, models: Record<string, unknown> = {}) => parseConfig({
  backend: { kind: 'vllm', vllm: { startupTimeoutS: 30 } },
  ...extra,
  models,
}, 'test config');
const roles = ['predictor', 'verifier_2b', 'verifier_8b'] as const;

test('three fake servers on three GPUs: distinct ports, flags and env as configured, requests served, nothing left after close', async () => {
  const runDir = tmpDir();
  const lines: string[] = [];
  // The fake nvidia-smi (test/fake-vllm) reports GPU 1 as busy.
  process.env.FAKE_GPU_BUSY = '1';
  const set = await openBackends(config(), { runDir, roles: [...roles], log: (l) => lines.push(l) }).finally(() => { delete process.env.FAKE_GPU_BUSY; });
  assert.deepEqual(lines.filter((l) => l.startsWith('warning: GPU')), ['warning: GPU 1 already runs 1 compute process(es) (4242, python3, 30120 MiB); verifier_2b may not fit']);
  const pids: number[] = [];
  try {
    assert.equal(set.kind, 'vllm');
    assert.equal(set.synthetic, false);
    const urls = roles.map((r) => set.endpoints[r]!.baseUrl);
    assert.equal(new Set(urls).size, 3);
    for (const [i, role] of roles.entries()) {
      const e = set.endpoints[role]!;
      assert.match(e.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const r = await fetch(`${e.baseUrl}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${e.apiKey}` }, body: JSON.stringify({ model: e.model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl(scenePng(['water'])) } }, { type: 'text', text: PREDICT_PROMPT }] }] }) });
      assert.equal(r.status, 200, role);
      const unauth = await fetch(`${e.baseUrl}/models`);
      assert.equal(unauth.status, 401, 'the random API key is required');
      const log = fs.readFileSync(path.join(runDir, `vllm-${role}.log`), 'utf8');
      assert.match(log, new RegExp(`CUDA_VISIBLE_DEVICES=${i} `));
      assert.match(log, new RegExp(`VLLM_CACHE_ROOT=${path.join(runDir, 'vllm-cache', role).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(log, role === 'predictor' ? /VLLM_BATCH_INVARIANT=1/ : /VLLM_BATCH_INVARIANT=\s/);
      assert.match(log, /"--host","127\.0\.0\.1"/);
      assert.match(log, /"--limit-mm-per-prompt","\{\\"image\\":1,\\"video\\":0\}","--seed","42","--generation-config","vllm"/);
      assert.match(log, /VLLM_HTTP_TIMEOUT_KEEP_ALIVE=75/);
      assert.match(log, /Application startup complete\./);
      const m = await set.metrics(role);
      assert.ok(m && m.running === 0 && (m.prefixCacheQueries ?? 0) > 0);
    }
    for (const role of roles) {
      const pid = Number(/ \[(\d+)\]\n/.exec(fs.readFileSync(path.join(runDir, `vllm-${role}.log`), 'utf8'))?.[1]);
      pids.push(pid);
    }
  } finally {
    await set.close();
  }
  for (const pid of pids) assert.equal(isGroupAlive(pid), false, `process group ${pid} is gone`);
});

test('a server that exits during startup: the error carries its log tail', async () => {
  const runDir = tmpDir();
  await assert.rejects(
    openBackends(config({}, { verifier_2b: { profile: 'qwen3-vl-2b', path: 'Qwen/Qwen3-VL-2B-Instruct', servedModelName: 'qwen3-vl-2b', gpuId: 1, env: { FAKE_VLLM_FAULTS: 'exit-startup' } } }), { runDir, roles: [...roles], log: () => {} }),
    (e: TceError) => e.code === 'VLLM_EXITED' && /verifier_2b exited \(code 1\)/.test(e.message) && /CUDA out of memory/.test(e.message),
  );
  // An unknown flag (as old vLLMs treat --default-chat-template-kwargs): argparse's message, exit 2.
  await assert.rejects(
    openBackends(config({}, { verifier_8b: { profile: 'qwen3-vl-8b', path: 'Qwen/Qwen3-VL-8B-Instruct', servedModelName: 'qwen3-vl-8b', gpuId: 2, vllmArgs: ['--default-chat-template-kwargs', '{"enable_thinking": false}'] } }), { runDir: tmpDir(), roles: ['verifier_8b'], log: () => {} }),
    (e: TceError) => /code 2/.test(e.message) && /unrecognized arguments: --default-chat-template-kwargs/.test(e.message),
  );
  // A vLLM from before --stream-interval (the fake acts as one): the hint says what to set.
  await assert.rejects(
    openBackends(config({}, { verifier_8b: { profile: 'qwen3-vl-8b', path: 'Qwen/Qwen3-VL-8B-Instruct', servedModelName: 'qwen3-vl-8b', gpuId: 2, env: { FAKE_VLLM_NO_STREAM_INTERVAL: '1' } } }), { runDir: tmpDir(), roles: ['verifier_8b'], log: () => {} }),
    (e: TceError) => e.code === 'VLLM_EXITED' && /unrecognized arguments: --stream-interval 4/.test(e.message) && /predates --stream-interval \(vLLM PR #27869\); set backend\.streamInterval to 1/.test(e.hint ?? ''),
  );
});

test('the fake vllm parses --stream-interval as vLLM does: argparse int, then SchedulerConfig ge=1', () => {
  // vllm/engine/arg_utils.py (type int) and vllm/config/scheduler.py
  // (stream_interval: int = Field(default=1, ge=1)).
  const run = (v: string) => spawnSync(path.join(FAKE_DIR, 'vllm'), ['serve', 'm', '--port', '0', '--stream-interval', v], { encoding: 'utf8', env: { ...process.env, FAKE_VLLM_FAULTS: 'exit-startup' } });
  const bad = run('4.0');
  assert.deepEqual([bad.status, /argument --stream-interval: invalid int value: '4\.0'/.test(bad.stderr)], [2, true]);
  const zero = run('0');
  assert.deepEqual([zero.status, /stream_interval\n  Input should be greater than or equal to 1/.test(zero.stderr)], [1, true]);
  // Python's int() takes " 1_6"; the fake then gets to its (injected) startup failure.
  const ok = run(' 1_6');
  assert.equal(ok.status, 1);
  assert.match(ok.stdout, /CUDA out of memory/);
});

test('a missing executable is a clear error', () => {
  assert.throws(() => new VllmPool(config({ backend: { kind: 'vllm', vllm: { executable: 'no-such-vllm' } } }), { runDir: tmpDir() }), /no-such-vllm' was not found on PATH/);
});

test('engine death mid-run: the request fails, the server exits, the pool reports it', async () => {
  const lines: string[] = [];
  const set = await openBackends(config({}, { verifier_8b: { profile: 'qwen3-vl-8b', path: 'm8', servedModelName: 'qwen3-vl-8b', gpuId: 2, env: { FAKE_VLLM_FAULTS: 'die-after=1' } } }), { runDir: tmpDir(), roles: ['verifier_8b'], log: (l) => lines.push(l) });
  try {
    const e = set.endpoints.verifier_8b!;
    const send = () => fetch(`${e.baseUrl}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${e.apiKey}` }, body: JSON.stringify({ model: e.model, messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal((await send()).status, 200);
    assert.equal((await send()).status, 500);
    for (let i = 0; i < 100 && !lines.some((l) => l.includes('exited')); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(lines.some((l) => /verifier_8b exited/.test(l) && /EngineDeadError/.test(l)), lines.join('\n'));
    assert.equal(await set.metrics('verifier_8b').catch(() => null), null);
  } finally {
    await set.close();
  }
});

test('models that do not fit one GPU together load in waves', async () => {
  const cfg = config({}, { verifier_2b: { profile: 'qwen3-vl-2b', path: 'm2', servedModelName: 'qwen3-vl-2b', gpuId: 0 } });
  const lines: string[] = [];
  const set = await openBackends(cfg, { runDir: tmpDir(), roles: ['predictor', 'verifier_2b'], log: (l) => lines.push(l) });
  try {
    assert.ok(lines.some((l) => /load in 2 waves: predictor then verifier_2b/.test(l)), lines.join('\n'));
    assert.ok(set.endpoints.predictor && !set.endpoints.verifier_2b);
    await set.prepare!(['verifier_2b']);
    assert.ok(!set.endpoints.predictor && set.endpoints.verifier_2b);
  } finally {
    await set.close();
  }
});
