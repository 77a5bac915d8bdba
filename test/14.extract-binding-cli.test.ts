// The binding's handle checks, the engine factory, the SSE details of
// vllm_facts.md §5 on both engines, and `tce extract` end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireNative } from '../src/native/loader';
import { createStreamEngine } from '../src/extract/engine';
import type { StreamResult } from '../src/extract/types';
import { tce } from './helpers/cli';

const opts = { knownTools: ['check_scene_prior'], answerKind: 'verify' as const };

test('wrong, closed or foreign handles throw TypeError, never crash', () => {
  const addon = requireNative();
  const e = addon.createEngine();
  const h = addon.open(e, 0, []);
  addon.close(e, h);
  assert.throws(() => addon.finish(e, h), TypeError);
  assert.throws(() => addon.close(e, 12345), TypeError);
  const one = new Uint8Array(1);
  assert.throws(() => addon.feed(e, Uint32Array.of(h), one, Uint32Array.of(1), Float64Array.of(0)), TypeError);
  assert.throws(() => addon.open({} as never, 0, []), TypeError);
  const h2 = addon.open(e, 0, []);
  assert.throws(() => addon.feed(e, Uint32Array.of(h2), one, Uint32Array.of(2), Float64Array.of(0)), TypeError, 'end past the data');
  assert.throws(() => addon.feed(e, Uint32Array.of(h2), one, Uint32Array.of(), Float64Array.of(0)), TypeError, 'length mismatch');
  assert.throws(() => addon.feed(e, Uint32Array.of(h2), 'text' as never, Uint32Array.of(1), Float64Array.of(0)), TypeError);
  addon.feed(e, Uint32Array.of(h2, h2), Buffer.from('ab'), Uint32Array.of(1, 2), Float64Array.of(0, 1));
  // count: only the first entries of longer (reused) arrays are read.
  assert.throws(() => addon.feed(e, Uint32Array.of(h2), one, Uint32Array.of(1), Float64Array.of(0), 2), TypeError, 'count past the arrays');
  assert.throws(() => addon.feed(e, Uint32Array.of(h2), one, Uint32Array.of(1), Float64Array.of(0), 0.5), TypeError, 'fractional count');
  const t = addon.open(e, 1, []);
  addon.feed(e, Uint32Array.of(t, 0), Buffer.from('xy'), Uint32Array.of(1, 99), Float64Array.of(0, 0), 1);
  const [text, nums] = addon.finish(e, t, new Float64Array(1)); // too small to reuse: a new array comes back
  assert.equal(text.slice(0, nums[0]), 'x');
  assert.ok(nums.length > 1);
  for (const impl of ['native', 'typescript'] as const) {
    const eng = createStreamEngine(impl);
    assert.throws(() => eng.finish(999), TypeError);
  }
});

// A vLLM stream as §5 describes it: role chunk, several tokens per delta,
// text in the finish chunk, usage chunk with empty choices, [DONE].
const VLLM = [
  'data: {"id":"chatcmpl-edcac873","object":"chat.completion.chunk","created":1760073516,"model":"Qwen/Qwen3-VL-2B","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null}\n\n',
  'data: {"id":"chatcmpl-edcac873","object":"chat.completion.chunk","created":1760073516,"model":"Qwen/Qwen3-VL-2B","choices":[{"index":0,"delta":{"content":"<tool_call>\\n{\\"name\\": \\"check_scene_prior\\", "},"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n',
  'data: {"id":"chatcmpl-edcac873","object":"chat.completion.chunk","created":1760073516,"model":"Qwen/Qwen3-VL-2B","choices":[{"index":0,"delta":{"content":"\\"arguments\\": {\\"predicted_scene\\": \\"flooded\\"}}\\n</tool_call>"},"logprobs":null,"finish_reason":"stop","stop_reason":null,"token_ids":null}]}\n\n',
  'data: {"id":"chatcmpl-edcac873","object":"chat.completion.chunk","created":1760073516,"model":"Qwen/Qwen3-VL-2B","choices":[],"usage":{"prompt_tokens":1234,"total_tokens":1300,"completion_tokens":66}}\n\n',
  'data: [DONE]\n\n',
];

function feedAll(impl: 'native' | 'typescript', chunks: Array<[string, number]>): StreamResult {
  const e = createStreamEngine(impl);
  const h = e.open(opts);
  for (const [c, t] of chunks) e.feed([{ handle: h, chunk: Buffer.from(c), timeMs: t }]);
  return e.finish(h);
}

test('a vLLM stream: call, finish reason, usage, [DONE], first-token time and per-chunk counts', () => {
  for (const impl of ['native', 'typescript'] as const) {
    // bursty: events 0-2 in one body chunk, then the rest
    const r = feedAll(impl, [[VLLM.slice(0, 3).join(''), 10], [VLLM.slice(3).join(''), 20]]);
    assert.deepEqual(r.toolCalls.map((c) => [c.name, c.arguments, c.status]), [['check_scene_prior', { predicted_scene: 'flooded' }, 'ok']], impl);
    assert.equal(r.finishReason, 'stop');
    assert.deepEqual(r.usage, { promptTokens: 1234, completionTokens: 66 });
    assert.equal(r.sawDone, true);
    assert.equal(r.error, null);
    assert.equal(r.firstTokenMs, 10);
    assert.deepEqual(r.chunkTimesMs, [10]);
    assert.deepEqual(r.chunkTokens, [2]);
  }
});

test('mid-stream error event and malformed SSE are data, not exceptions', () => {
  for (const impl of ['native', 'typescript'] as const) {
    const r = feedAll(impl, [[VLLM[1]! + 'data: {"error":{"message":"engine dead","type":"InternalServerError","param":null,"code":500}}\n\ndata: [DONE]\n\n', 5]]);
    assert.deepEqual(r.error, { message: 'engine dead', type: 'InternalServerError', code: 500 }, impl);
    const m = feedAll(impl, [['data: {"choices":[{"delta":{"content":"x"\n\ndata: [DONE]\n\n', 5]]);
    assert.equal(m.error?.type, 'sse_malformed');
    assert.equal(m.text, '');
  }
});

test('server-parsed tool_calls deltas go through the same checks (source server)', () => {
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const body = ev({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'chatcmpl-tool-1', type: 'function', function: { name: 'check_scene_prior' } }] } }] }) +
    ev({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: "{'predicted_scene': " } }] } }] }) +
    ev({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: "'flagger',}" } }] }, finish_reason: 'tool_calls' }] });
  for (const impl of ['native', 'typescript'] as const) {
    const r = feedAll(impl, [[body, 1]]);
    assert.deepEqual(r.toolCalls, [{ name: 'check_scene_prior', arguments: { predicted_scene: 'flagger' }, status: 'repaired', repairs: ['single_quotes', 'trailing_comma'], raw: "{'predicted_scene': 'flagger',}", source: 'server' }], impl);
    assert.equal(r.finishReason, 'tool_calls');
  }
});

test('tce extract: the acceptance line prints the call with status ok; bad lines name the row and field', async () => {
  const input = '{"text":"<tool_call>\\n{\\"name\\": \\"check_scene_prior\\", \\"arguments\\": {\\"predicted_scene\\": \\"incident_zone\\"}}\\n</tool_call>"}\n' +
    '{"chunks":["<tool_call>{\\"na","me\\":\\"x\\",\\"arguments\\":{}}</tool_call>"]}\n' +
    `{"sse":${JSON.stringify(VLLM.join(''))}}\n`;
  const r = await tce(['extract'], { input });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { tool_calls: Array<{ name: string; status: string; arguments: unknown }>; finish_reason?: string });
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0]!.tool_calls, [{ name: 'check_scene_prior', arguments: { predicted_scene: 'incident_zone' }, status: 'ok', repairs: [] }]);
  assert.equal(lines[1]!.tool_calls[0]!.name, 'x');
  assert.equal(lines[2]!.finish_reason, 'stop');
  const bad = await tce(['extract'], { input: '{"text":"a"}\n{"text": 5}\n' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /<stdin> line 2: field "text" must be a string/);
  assert.equal(bad.stdout.trim().split('\n').length, 1);
  const untagged = await tce(['extract', '--tools', 'my_tool'], { input: '{"text":"{\\"name\\": \\"my_tool\\", \\"arguments\\": {}}"}\n' });
  assert.equal((JSON.parse(untagged.stdout) as { tool_calls: Array<{ status: string }> }).tool_calls[0]!.status, 'untagged');
});
