import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir, ROOT, processMark, processesWithMark } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { startSimulator } from '../src/backends/sim/server';
import { ReplicaChatClient } from '../src/run/replica-client';
import type { ChatClient, TurnOutcome } from '../src/run/turn';
import type { ChatMessage } from '../src/run/chat-request';

function fakeClient(name: string, gate: Promise<void>): ChatClient {
  return {
    endpoint: { role: 'verifier_2b', baseUrl: name, apiKey: 'k', model: 'm' },
    async turn(): Promise<TurnOutcome> {
      await gate;
      return { status: 'ok', result: null, error: null, retries: 0, timing: { sentAt: 0, ttftMs: null, decodeMs: null, e2eMs: 0, chunkOffsetsMs: new Float64Array(0) } };
    },
    close: () => Promise.resolve(),
  };
}

test('replica client: least in flight, and a conversation stays on its first turn\'s replica', async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  const rc = new ReplicaChatClient([fakeClient('a', gate), fakeClient('b', gate), fakeClient('c', gate)]);
  const convs: ChatMessage[][] = Array.from({ length: 6 }, (_, i) => [{ role: 'user', content: `sample ${i}` }]);
  const first = convs.map((m) => rc.turn(m, {} as never, {} as never, {} as never));
  assert.deepEqual(rc.inFlight, [2, 2, 2]);
  open();
  const where = (await Promise.all(first)).map((o) => o.endpoint);
  // Continuations (the same message array, grown) go home even when that replica is busier.
  for (const m of convs) m.push({ role: 'assistant', content: 'x' });
  const again = await Promise.all(convs.map((m) => rc.turn(m, {} as never, {} as never, {} as never)));
  assert.deepEqual(again.map((o) => o.endpoint), where);
  assert.deepEqual(rc.sent, [4, 4, 4]);
});

test('two simulator replicas as endpoints of one role: both serve, every conversation stays on one', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-replicas-');
  const sims = await Promise.all([0, 1].map(() => startSimulator({ seed: 42, models: [{ servedModelName: 'qwen3-vl-2b', profile: 'qwen3-vl-2b' }], apiKey: 'k2' })));
  try {
    const cfg = writeTestConfig(dir, fixture, { backend: { kind: 'endpoints', endpoints: sims.map((s) => ({ model: 'verifier_2b', url: s.baseUrl, apiKey: 'k2' })) } });
    const r = await tce(['run', '--config', cfg, '--limit', '30', '--conditions', 'all_tools_2b', '--no-report'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /verifier_2b: 2 replicas/);
    const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
    const per = db.prepare('SELECT endpoint, count(*) AS n FROM turns_full GROUP BY endpoint ORDER BY endpoint').all() as Array<{ endpoint: string; n: number }>;
    assert.deepEqual(per.map((p) => p.endpoint).sort(), sims.map((s) => s.baseUrl).sort());
    for (const p of per) assert.ok(p.n >= 10, `${p.endpoint} got only ${p.n} turns`);
    const multi = db.prepare('SELECT sample_id, count(*) AS turns, count(DISTINCT endpoint) AS servers FROM turns_full GROUP BY sample_id HAVING turns > 1').all() as Array<{ sample_id: number; turns: number; servers: number }>;
    assert.ok(multi.length >= 5, 'too few multi-turn conversations to check affinity');
    for (const m of multi) assert.equal(m.servers, 1, `sample ${m.sample_id}: its turns went to ${m.servers} servers`);
    db.close();
  } finally {
    await Promise.all(sims.map((s) => s.close()));
  }
});

test('models.verifier_2b.gpuIds [0,1] with the fake vllm: two servers start, both serve, conversations stay put, none is left; serve-check shows both', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-replicas-vllm-');
  const cfg = writeTestConfig(dir, fixture, { backend: { kind: 'vllm' }, models: { verifier_2b: { profile: 'qwen3-vl-2b', path: '/fsx/models/Qwen3-VL-2B-Instruct', servedModelName: 'qwen3-vl-2b', gpuId: 1, gpuIds: [0, 1] } } });
  const mark = processMark();
  const env = { ...process.env, [mark.name]: mark.value, PATH: `${path.join(ROOT, 'test', 'fake-vllm')}${path.delimiter}${process.env['PATH'] ?? ''}` };
  const r = await tce(['run', '--config', cfg, '--limit', '24', '--conditions', 'all_tools_2b', '--no-report'], { cwd: dir, env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /starting verifier_2b: .* on GPU 0/);
  assert.match(r.stderr, /starting verifier_2b#1: .* on GPU 1/);
  const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  const per = db.prepare('SELECT endpoint, count(*) AS n FROM turns_full GROUP BY endpoint').all() as Array<{ endpoint: string; n: number }>;
  assert.equal(per.length, 2, JSON.stringify(per));
  for (const p of per) assert.ok(p.n >= 8, `${p.endpoint} got only ${p.n} turns`);
  const split = db.prepare('SELECT count(*) AS n FROM (SELECT sample_id FROM turns_full GROUP BY sample_id HAVING count(DISTINCT endpoint) > 1)').get() as { n: number };
  assert.equal(split.n, 0, 'a conversation moved between replicas');
  const multi = db.prepare('SELECT count(*) AS n FROM (SELECT sample_id FROM turns GROUP BY sample_id HAVING count(*) > 1)').get() as { n: number };
  assert.ok(multi.n >= 5);
  db.close();
  assert.deepEqual(processesWithMark(mark), []);
  const sc = await tce(['serve-check', '--config', cfg, '--run-dir', path.join(dir, 'sc')], { cwd: dir, env });
  assert.equal(sc.status, 0, sc.stderr + sc.stdout);
  assert.match(sc.stdout, /^verifier_2b#0 +healthy/m);
  assert.match(sc.stdout, /^verifier_2b#1 +healthy/m);
  assert.deepEqual(processesWithMark(mark), [], 'serve-check left servers running');
});
