// A rehearsal of the real path: backend.kind "vllm" with the fake `vllm` on
// PATH, which parses vLLM's flags and serves the simulator as strict as vLLM's
// source (streaming hermes parser, local media check, 5 s idle keep-alive,
// history arguments json.loads-ed). Both parse modes and both image modes:
// no request may be rejected, none retried, and the results must equal the
// in-process simulator's for the same seed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir, ROOT } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';

const LIMIT = '12';
const CONDITIONS = 'all_tools_2b';
const PATH_WITH_FAKE = `${path.join(ROOT, 'test', 'fake-vllm')}${path.delimiter}${process.env['PATH'] ?? ''}`;

interface RunOut {
  db: Database.Database;
  dir: string;
}

/** One `tce run`, in this process (the fake vllm servers are still real
 * subprocesses): runs take turns, but each costs no node start, module load
 * or tokenizer load of its own. */
async function run(kind: 'vllm' | 'simulator', parseMode: 'client' | 'server', imageMode: 'data-url' | 'file'): Promise<RunOut> {
  const dir = tmpDir(`tce-rehearsal-${kind}-${parseMode}-${imageMode}-`);
  const cfg = writeTestConfig(dir, await sharedFixture(), { backend: { kind }, run: { parseMode }, dataset: { imageMode } });
  const args = ['run', '--config', cfg, '--limit', LIMIT, '--conditions', CONDITIONS, '--no-report', '--quiet'];
  const r = await tce(args, { cwd: dir, env: { ...process.env, PATH: PATH_WITH_FAKE, FAKE_VLLM_STARTUP_MS: '0' } });
  assert.equal(r.status, 0, `${kind} ${parseMode} ${imageMode}: ${r.stderr}`);
  return { db: new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true }), dir };
}

const COMBOS = (['client', 'server'] as const).flatMap((p) => (['data-url', 'file'] as const).map((i) => [p, i] as const));
const runs = new Map<string, { real: RunOut; sim: RunOut }>();
// One in-process simulator run per parse mode (data URLs) is the reference
// for both image modes: the transport must not change an answer (vision.ts
// seeds it from the image's bytes), so a fake-vllm run with file URLs must
// equal it too. That is a stronger check than a file-mode simulator run, which
// a transport-dependent answer would change the same way.
before(async () => {
  await sharedFixture();
  const sims = new Map<string, RunOut>();
  for (const [p, i] of COMBOS) {
    const real = await run('vllm', p, i);
    if (!sims.has(p)) sims.set(p, await run('simulator', p, 'data-url'));
    runs.set(`${p} ${i}`, { real, sim: sims.get(p)! });
  }
});
after(() => {
  for (const db of new Set([...runs.values()].flatMap((r) => [r.real.db, r.sim.db]))) db.close();
});

function findFiles(dir: string, re: RegExp, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, re, out);
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

const results = (db: Database.Database) => ({
  predictions: db.prepare('SELECT sample_id, final_scene, final_long_action, final_lat_action, was_revised, final_status, n_turns, n_tool_calls, final_generated_text FROM predictions_full ORDER BY sample_id').all(),
  calls: db.prepare('SELECT sample_id, tool_call_order, turn_index, tool_name, call_status, source, tool_arguments_json, executed_ok FROM tool_calls_full ORDER BY sample_id, tool_call_order').all(),
});

type Msg = { role: string; tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>; tool_call_id?: string };

/** Every assistant message followed by tool messages carries tool_calls whose
 * ids are exactly the ones those tool messages answer (valid JSON arguments). */
function checkHistory(db: Database.Database): number {
  let checked = 0;
  for (const t of db.prepare('SELECT request_json FROM turns_full').all() as Array<{ request_json: string }>) {
    const msgs = (JSON.parse(t.request_json) as { messages: Msg[] }).messages;
    msgs.forEach((m, i) => {
      if (m.role !== 'assistant') return;
      const answers: string[] = [];
      for (let k = i + 1; k < msgs.length && msgs[k]!.role === 'tool'; k++) answers.push(msgs[k]!.tool_call_id!);
      if (answers.length === 0) return;
      checked++;
      assert.deepEqual((m.tool_calls ?? []).map((c) => c.id), answers, 'tool messages answer the assistant\'s tool_calls');
      for (const c of m.tool_calls!) assert.equal(typeof JSON.parse(c.function.arguments), 'object');
    });
  }
  return checked;
}

for (const [parseMode, imageMode] of COMBOS) {
  test(`rehearsal: fake vllm, parseMode ${parseMode}, imageMode ${imageMode}: nothing rejected or retried, results equal the in-process simulator's`, () => {
    const { real, sim } = runs.get(`${parseMode} ${imageMode}`)!;
    const bad = real.db.prepare("SELECT count(*) AS n, coalesce(sum(retries), 0) AS r FROM turns WHERE status != 'ok' OR retries > 0").get() as { n: number; r: number };
    assert.deepEqual(bad, { n: 0, r: 0 }, 'no turn failed or was retried');
    const logs = findFiles(real.dir, /^vllm-.*\.log$/);
    assert.ok(logs.length > 0);
    for (const f of logs) {
      const text = fs.readFileSync(f, 'utf8');
      assert.ok(!/"POST \/v1\/chat\/completions HTTP\/1\.1" (?!200)\d{3}/.test(text), `${f}: a request was refused`);
      assert.match(text, /--generation-config","vllm"/);
      assert.match(text, /VLLM_HTTP_TIMEOUT_KEEP_ALIVE=75/);
      if (imageMode === 'file') assert.match(text, /--allowed-local-media-path","\//);
    }
    const turns = (real.db.prepare('SELECT count(*) AS n FROM turns').get() as { n: number }).n;
    assert.ok(turns > Number(LIMIT), 'tool turns ran');
    const exp = real.db.prepare('SELECT synthetic, sampling_json FROM experiments').get() as { synthetic: number; sampling_json: string };
    assert.equal(exp.synthetic, 1, 'synthetic data with real servers is still synthetic');
    assert.deepEqual(JSON.parse(exp.sampling_json), { temperature: 0, top_p: 1, top_k: -1, min_p: 0, repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0, seed: 42, max_completion_tokens: 512, generation_config: 'vllm' });
    if (parseMode === 'server') assert.ok(checkHistory(real.db) > 0, 'some assistant turns called tools');
    assert.deepEqual(results(real.db), results(sim.db));
  });
}
