// The simulator against vLLM's own source: the streaming hermes parser block
// by block, local media paths, idle keep-alive, and `tce serve-sim` + curl.
// Each test names the vLLM file (and commit) it was checked against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { HermesStreamParser, partialTagOverlap, toolArgs } from '../src/backends/sim/hermes-stream';
import { streamSteps } from '../src/backends/sim/planner';
import { checkMediaRoot, localFile, purePosixPath } from '../src/backends/sim/vision';
import { startSimulator, VLLM_KEEP_ALIVE_S } from '../src/backends/sim/server';
import { ROOT, TCE_BIN, tmpDir } from './helpers/cli';
import { deltaChunk, roleChunk, usageChunk } from '../src/backends/sim/wire';

type Call = { id?: string; name: string; args: string };
/** Assembles the streamed steps as a client does. */
function assemble(steps: ReturnType<typeof streamSteps>['steps']): { content: string; calls: Call[] } {
  let content = '';
  const calls: Call[] = [];
  for (const s of steps) {
    if (s.delta === null) continue;
    if ('content' in s.delta) { content += s.delta.content; continue; }
    content += s.delta.parser.content ?? '';
    for (const t of s.delta.parser.toolCalls) {
      calls[t.index] ??= { name: '', args: '' };
      if (t.id) calls[t.index]!.id = t.id;
      calls[t.index]!.name += t.function.name ?? '';
      calls[t.index]!.args += t.function.arguments ?? '';
    }
  }
  return { content, calls };
}
/** Cuts text into engine steps of n characters (tokens, roughly). */
const steps = (text: string, n = 3) => Array.from({ length: Math.ceil(text.length / n) }, (_, i) => text.slice(i * n, i * n + n));

const GOOD = '<tool_call>\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "flooded"}}\n</tool_call>';
const BAD = '<tool_call>\n{"name": "check_confusion_risk", "arguments": {"predicted_scene": flooded,}}\n</tool_call>';

test('hermes streaming (hermes_tool_parser.py extract_tool_calls_streaming): block by block, raw arguments, no text after the first tag', () => {
  // vLLM: `if "name" not in self.prev_tool_call_arr[i]: name = self._extract_tool_name(tc_json)`
  // and the arguments are `_extract_tool_args` by brace matching, never json.loads-ed.
  for (const n of [1, 3, 7, 1000]) {
    const text = `Let me check.\n${GOOD}\n${BAD}\nFINAL_SCENE: flooded`;
    const r = streamSteps(steps(text, n), false, true);
    const { content, calls } = assemble(r.steps);
    assert.equal(content, 'Let me check.\n', `split ${n}`);
    assert.deepEqual(calls.map((c) => [c.name, c.args]), [['check_scene_prior', '{"predicted_scene": "flooded"}'], ['check_confusion_risk', '{"predicted_scene": flooded,}']]);
    assert.ok(calls.every((c) => /^chatcmpl-tool-[0-9a-f]{32}$/.test(c.id ?? '')));
    assert.equal(r.finish, 'tool_calls');
  }
  // A nameless block stops the parse: "Can't skip to tool i+1 if i isn't ready".
  const nameless = assemble(streamSteps(steps(`<tool_call>\n{'name': 'x'}\n</tool_call>${GOOD}`), false, true).steps);
  assert.deepEqual(nameless, { content: '', calls: [] });
  // finish_reason becomes "tool_calls" once a call was streamed, even when
  // max_tokens cut it (serving.py chat_completion_stream_generator, 5e918640:
  // `auto_tools_called or (tools_streamed[i] and not tool_choice_function_name)`;
  // vllm-project/vllm issue #53269, fixes #46303 / #47963 not merged).
  const cut = streamSteps(steps('<tool_call>\n{"name": "check_scene_prior", "arguments": {"predicted_sc'), true, true);
  assert.equal(cut.finish, 'tool_calls');
  // Cut before any call was streamed: the engine's "length" stays.
  assert.equal(streamSteps(steps('Let me check <tool_call>\n{"na'), true, true).finish, 'length');
  assert.deepEqual(assemble(cut.steps).calls.map((c) => c.args), ['{"predicted_sc']);
  // Without a call the text streams as content; a partial "<tool" is held back.
  assert.equal(partialTagOverlap('abc<tool', '<tool_call>'), 5);
  assert.equal(new HermesStreamParser().step('abc<tool')?.content, 'abc');
  assert.equal(toolArgs('{"name": "f", "arguments": {"x": "}"}}', true), '{"x": "}"}');
  // Client mode (no parser): every step is a plain content delta.
  assert.equal(assemble(streamSteps(steps(GOOD), false, false).steps).content, GOOD);
});

test('the EOS step (serving.py chat_completion_stream_generator, 5e918640): "" is sent as content without a parser; with one, only the finish as DeltaMessage()', () => {
  // The stop token is never detokenized (vllm/v1/engine/detokenizer.py), so
  // the finishing output of a text whose tokens closed a group has text "".
  const plain = streamSteps(['FIN', 'AL_SCENE: flooded', ''], false, false, [1, 4, 1]);
  assert.deepEqual(plain.steps.map((s) => [s.delta, s.finish, s.tokens]), [[{ content: 'FIN' }, null, 1], [{ content: 'AL_SCENE: flooded' }, null, 4], [{ content: '' }, 'stop', 1]]);
  // A multi-byte character held back mid-stream: an output with text "" is still an event.
  assert.deepEqual(streamSteps(['a', '', 'b', ''], false, false).steps.map((s) => s.delta), [{ content: 'a' }, { content: '' }, { content: 'b' }, { content: '' }]);
  // The hermes parser has nothing new for "": no chunk, except the finishing one, and
  // a skipped output's tokens are decoded before the next chunk is sent.
  const parsed = streamSteps(['Let me ', '<tool_', 'call>\n{"name": "check_scene_prior", "arguments": {}}\n</tool_call>', ''], false, true, [1, 4, 4, 1]);
  assert.deepEqual(parsed.steps.map((s) => s.tokens), [1, 8, 1]);
  assert.deepEqual([parsed.steps.at(-1)!.delta, parsed.finish], [null, 'tool_calls']);
});

test('local media (multimodal MediaConnector._load_file_url): the flag must be a parent of the resolved file, compared unresolved', () => {
  const dir = tmpDir('tce-media-');
  const real = path.join(dir, 'real');
  fs.mkdirSync(real);
  fs.writeFileSync(path.join(real, 'a.png'), 'x');
  fs.symlinkSync(real, path.join(dir, 'link'));
  const url = `file://${path.join(real, 'a.png')}`;
  assert.throws(() => localFile(url, undefined), /^Error: Cannot load local files without `--allowed-local-media-path`\.$/);
  assert.equal(localFile(url, real), path.join(real, 'a.png'));
  assert.equal(localFile(url, real + '/'), path.join(real, 'a.png'), 'a trailing slash is the same pure path');
  assert.throws(() => localFile(url, path.join(dir, 'link')), /must be a subpath of `--allowed-local-media-path/, 'a symlinked flag never matches');
  assert.throws(() => localFile(`file://${path.join(dir, 'link', 'a.png')}`, path.join(dir, 'link')), /must be a subpath/, 'nor does a file reached through it');
  const rel = path.relative(process.cwd(), real);
  assert.throws(() => localFile(url, rel), /must be a subpath/, 'a relative flag never matches');
  assert.throws(() => localFile(`file://${real}`, real), /must be a subpath/, 'the folder itself is not a subpath');
  assert.throws(() => checkMediaRoot(path.join(dir, 'none')), /Invalid `--allowed-local-media-path`: The path .* does not exist\./);
  assert.equal(purePosixPath('/a//b/./c/'), '/a/b/c');
});

test('idle keep-alive: 5 s by default (envs.py VLLM_HTTP_TIMEOUT_KEEP_ALIVE), no Keep-Alive hint, idle sockets closed', async () => {
  assert.equal(VLLM_KEEP_ALIVE_S, 5);
  const sim = await startSimulator({ seed: 1, keepAliveS: 0.3, models: [{ servedModelName: 'm', profile: 'echo' }] });
  try {
    const sock = net.connect(sim.port, '127.0.0.1');
    let head = '';
    const closed = new Promise<number>((resolve) => {
      let t = 0;
      sock.on('data', (d) => { head += d.toString(); t = performance.now(); });
      sock.on('close', () => resolve(performance.now() - t));
    });
    sock.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const idle = await closed;
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.doesNotMatch(head, /keep-alive: timeout/i, 'uvicorn sends no hint of its idle timeout');
    assert.ok(idle >= 250 && idle < 3000, `closed after ${idle} ms idle`);
  } finally {
    await sim.close();
  }
});

test('tce serve-sim + curl: the second <tool_call> block has bad JSON', { skip: spawnSync('curl', ['--version']).status !== 0 ? 'curl not installed' : false }, async () => {
  // vllm/tool_parsers/hermes_tool_parser.py (vllm-project/vllm@02bb669b):
  //   args_diff = self._compute_args_diff(i, tc_json, is_complete)
  // streams the raw argument text of every named block, valid JSON or not,
  // and `sendable_idx = current_text.index(self.tool_call_start_token)` keeps
  // all text after the first <tool_call> out of `content`.
  const child = spawn(process.execPath, [TCE_BIN, 'serve-sim', '--server-parse'], { cwd: tmpDir('tce-serve-sim-'), stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { const m = /http:\/\/127\.0\.0\.1:\d+\/v1/.exec(d.toString()); if (m) resolve(m[0]); });
      child.on('exit', (c) => reject(new Error(`serve-sim exited ${c}`)));
    });
    const tools = [{ type: 'function', function: { name: 'check_scene_prior', parameters: { type: 'object' } } }, { type: 'function', function: { name: 'check_confusion_risk', parameters: { type: 'object' } } }];
    const body = JSON.stringify({ model: 'echo', stream: true, tools, messages: [{ role: 'user', content: `Checking.\n${GOOD}\n${BAD}` }] });
    const r = spawnSync('curl', ['-sS', '-N', '-H', 'content-type: application/json', '-d', body, `${base}/chat/completions`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const chunks = r.stdout.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
    const calls: Call[] = [];
    let content = '';
    for (const c of chunks) {
      const d = c.choices[0]?.delta ?? {};
      content += d.content ?? '';
      for (const t of d.tool_calls ?? []) {
        calls[t.index] ??= { name: '', args: '' };
        calls[t.index]!.name += t.function?.name ?? '';
        calls[t.index]!.args += t.function?.arguments ?? '';
      }
    }
    assert.equal(content, 'Checking.\n');
    assert.deepEqual(calls.map((c) => [c.name, c.args]), [['check_scene_prior', '{"predicted_scene": "flooded"}'], ['check_confusion_risk', '{"predicted_scene": flooded,}']]);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
    assert.ok(r.stdout.endsWith('data: [DONE]\n\n'));
  } finally {
    child.kill('SIGTERM');
  }
});

// The research notes live beside the repository (../shared), not in it.
const FACTS = path.join(ROOT, '..', 'shared', 'research', 'vllm_facts.md');
test('wire encoders reproduce the verbatim vLLM chunks of shared/research/vllm_facts.md §5.2', { skip: fs.existsSync(FACTS) ? false : `${FACTS} not present` }, () => {
  const facts = fs.readFileSync(FACTS, 'utf8');
  const line = (start: string) => facts.split('\n').find((l) => l.startsWith(start))! + '\n\n';
  const a = { id: 'chatcmpl-edcac873c27143ddad0085ebab042a40', created: 1760073516, model: 'Qwen/Qwen3-Next-80B-A3B-Instruct', fingerprint: null };
  const role = line('data: {"id":"chatcmpl-edcac873c27143ddad0085ebab042a40","object":"chat.completion.chunk","created":1760073516,"model":"Qwen/Qwen3-Next-80B-A3B-Instruct","choices":[{"index":0,"delta":{"role"');
  // The capture predates prompt_text, which current serving.py passes explicitly (so it is written).
  assert.equal(roleChunk(a), role.replace('"prompt_token_ids":null}', '"prompt_token_ids":null,"prompt_text":null}'));
  assert.equal(deltaChunk(a, { content: 'Hello' }, null), line('data: {"id":"chatcmpl-edcac873c27143ddad0085ebab042a40","object":"chat.completion.chunk","created":1760073516,"model":"Qwen/Qwen3-Next-80B-A3B-Instruct","choices":[{"index":0,"delta":{"content":"Hello"}'));
  const b = { id: 'chatcmpl-13ce8a4b-…', created: 1776779614, model: 'Qwen/Qwen3.5-35B-A3B-FP8', fingerprint: null };
  assert.equal(deltaChunk(b, { content: '\n}' }, 'stop'), line('data: {"id":"chatcmpl-13ce8a4b-…"'));
  assert.equal(usageChunk({ ...a, id: 'chatcmpl-…' }, { promptTokens: 1234, completionTokens: 66 }).slice(0, -2),
    'data: {"id":"chatcmpl-…","object":"chat.completion.chunk","created":1760073516,"model":"Qwen/Qwen3-Next-80B-A3B-Instruct","choices":[],"usage":{"prompt_tokens":1234,"total_tokens":1300,"completion_tokens":66}}');
  // With a fingerprint set, only the final message carries it.
  const f = { ...a, fingerprint: 'fp_x' };
  assert.ok(usageChunk(f, { promptTokens: 1, completionTokens: 1 }).includes(',"system_fingerprint":"fp_x"}'));
  assert.ok(!deltaChunk(f, { content: 'x' }, 'stop').includes('system_fingerprint'));
  assert.ok(deltaChunk(f, { content: 'x' }, 'stop', false).includes('"system_fingerprint":"fp_x"'));
});
