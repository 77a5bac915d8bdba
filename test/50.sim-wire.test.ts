// The simulator on the wire: vLLM's SSE framing and chunk shapes, errors and
// tool_choice rules, /models /health /metrics, and the openai client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSimulator, type Simulator } from '../src/backends/sim/server';
import { parseVllmMetrics, scrapeMetrics } from '../src/backends/metrics-scrape';
import { verificationPrompt, PREDICT_PROMPT } from '../src/protocol/prompts';
import { scenePng, dataUrl } from './fake-vllm/scene-png';
import { encode } from '../src/backends/sim/tokenizer';

const TOOLS = ['check_scene_prior', 'check_confusion_risk', 'check_scene_action_compatibility'].map((name) => ({
  type: 'function' as const, function: { name, description: name, parameters: { type: 'object', properties: {} } },
}));
const image = dataUrl(scenePng(['cone', 'barrier']));
const verifyMessages = (scene = 'incident_zone') => [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }, { type: 'text', text: verificationPrompt({ scene, longAction: 'slowdown', latAction: 'null' }) }] }];

let sim: Simulator;
let parse: Simulator;
before(async () => {
  sim = await startSimulator({ seed: 7, apiKey: 'k', streamInterval: 4, models: [{ servedModelName: 'qwen3-vl-2b', profile: 'qwen3-vl-2b' }, { servedModelName: 'sceneiq-ft-2b', profile: 'sceneiq-ft-2b' }, { servedModelName: 'echo', profile: 'echo' }] });
  parse = await startSimulator({ seed: 7, serverParse: true, systemFingerprint: true, models: [{ servedModelName: 'qwen3-vl-8b', profile: 'qwen3-vl-8b' }] });
});
after(async () => {
  await sim.close();
  await parse.close();
});

async function post(s: Simulator, body: unknown, key: string | null = 'k'): Promise<{ status: number; text: string; type: string | null; cacheControl: string | null }> {
  const r = await fetch(`${s.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type'), cacheControl: r.headers.get('cache-control') };
}

function events(text: string): string[] {
  assert.ok(text.endsWith('\n\n'), 'stream ends with a blank line');
  return text.slice(0, -2).split('\n\n').map((e) => {
    assert.ok(e.startsWith('data: '), `event framed as data: (${e.slice(0, 30)})`);
    assert.ok(!e.includes('\n'), 'one line per event');
    return e.slice(6);
  });
}

test('streamed turn: role chunk, multi-token deltas, finish chunk, usage chunk, [DONE]', async () => {
  const r = await post(sim, { model: 'qwen3-vl-2b', stream: true, stream_options: { include_usage: true }, tools: TOOLS, tool_choice: 'none', messages: verifyMessages() });
  assert.equal(r.status, 200);
  assert.match(r.type ?? '', /^text\/event-stream/);
  const evs = events(r.text);
  assert.equal(evs.at(-1), '[DONE]');
  const chunks = evs.slice(0, -1).map((e) => JSON.parse(e));
  const first = chunks[0];
  assert.deepEqual(first.choices[0].delta, { role: 'assistant', content: '' });
  // serving.py passes prompt_token_ids and prompt_text explicitly (None
  // unless asked for), so exclude_unset still writes them on the first chunk.
  assert.equal(first.prompt_token_ids, null);
  assert.ok('prompt_text' in first && first.prompt_text === null);
  assert.ok(chunks.slice(1).every((c) => !('prompt_text' in c)));
  // StreamingResponse(media_type="text/event-stream"): no cache-control.
  assert.equal(r.cacheControl, null);
  assert.match(first.id, /^chatcmpl-[0-9a-f]{32}$/);
  assert.ok(chunks.every((c) => c.id === first.id && c.created === first.created && c.model === 'qwen3-vl-2b' && c.object === 'chat.completion.chunk'));
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(Object.keys(usage.usage), ['prompt_tokens', 'total_tokens', 'completion_tokens']);
  // No --fingerprint-mode: system_fingerprint is None and exclude_none drops it.
  assert.ok(chunks.every((c) => !('system_fingerprint' in c)));
  const body = chunks.slice(1, -1);
  assert.ok(body.slice(0, -1).every((c) => c.choices[0].finish_reason === null && 'token_ids' in c.choices[0]));
  assert.equal(body.at(-1).choices[0].finish_reason, 'stop');
  const content = body.map((c) => c.choices[0].delta.content).join('');
  // tool_choice "none": calls are raw text in content (no parser ran).
  assert.ok(content.includes('<tool_call>') || content.includes('FINAL_SCENE:'), content);
  assert.ok(body.length < usage.usage.completion_tokens, 'several tokens per delta (--stream-interval 4)');
  assert.ok(usage.usage.prompt_tokens > 64, 'prompt tokens include the image');
  // Same request, not streamed: same text, same usage.
  const plain = await post(sim, { model: 'qwen3-vl-2b', tools: TOOLS, tool_choice: 'none', messages: verifyMessages() });
  const j = JSON.parse(plain.text);
  assert.equal(j.object, 'chat.completion');
  assert.equal(j.choices[0].message.content, content);
  assert.deepEqual(j.choices[0].message.tool_calls, []);
  assert.equal(j.usage.completion_tokens, usage.usage.completion_tokens);
});

test('vLLM errors: tool_choice rules, unknown model, stream_options, auth', async () => {
  const auto = await post(sim, { model: 'qwen3-vl-2b', tools: TOOLS, messages: verifyMessages() });
  assert.equal(auto.status, 400);
  assert.deepEqual(JSON.parse(auto.text), { error: { message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', type: 'BadRequestError', param: null, code: 400 } });
  // protocol.py check_tool_usage: an empty tools array, and a named choice
  // that names no offered tool, are refused with vLLM's own words.
  const empty = await post(sim, { model: 'qwen3-vl-2b', tools: [], tool_choice: 'none', messages: verifyMessages() });
  assert.deepEqual(JSON.parse(empty.text).error, { message: '`tools` must not be an empty array. Either provide at least one tool or omit the field entirely.', type: 'BadRequestError', param: 'tools', code: 400 });
  const named = await post(sim, { model: 'qwen3-vl-2b', tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } }, messages: verifyMessages() });
  assert.equal(JSON.parse(named.text).error.message, 'The tool specified in `tool_choice` does not match any of the specified `tools`');
  const badChoice = await post(sim, { model: 'qwen3-vl-2b', tools: TOOLS, tool_choice: 'sometimes', messages: verifyMessages() });
  assert.equal(JSON.parse(badChoice.text).error.message, 'Invalid value for `tool_choice`: sometimes! Only named tools, "none", "auto" or "required" are supported.');
  const noTools = await post(sim, { model: 'qwen3-vl-2b', tool_choice: 'auto', messages: verifyMessages() });
  assert.equal(JSON.parse(noTools.text).error.message, 'When using `tool_choice`, `tools` must be set.');
  const unknown = await post(sim, { model: 'gpt-9', messages: verifyMessages() });
  assert.equal(unknown.status, 404);
  assert.equal(JSON.parse(unknown.text).error.type, 'NotFoundError');
  const so = await post(sim, { model: 'qwen3-vl-2b', stream_options: { include_usage: true }, messages: verifyMessages() });
  assert.equal(JSON.parse(so.text).error.message, 'Stream options can only be defined when `stream=True`.');
  const noKey = await post(sim, { model: 'qwen3-vl-2b', messages: verifyMessages() }, null);
  assert.equal(noKey.status, 401);
  assert.equal(noKey.text, '{"error":"Unauthorized"}');
  // server_utils.py AuthenticationMiddleware: "bearer" in any case; every
  // path that merely starts with /v1 is guarded; /health and /metrics are not.
  const lower = await fetch(`${sim.baseUrl}/models`, { headers: { authorization: 'bearer k' } });
  assert.equal(lower.status, 200);
  const root = sim.baseUrl.replace(/\/v1$/, '');
  assert.equal((await fetch(`${root}/v1models`)).status, 401);
  assert.equal((await fetch(`${root}/v2/anything`)).status, 401);
  assert.equal((await fetch(`${root}/health`)).status, 200);
  const badImage = await post(sim, { model: 'qwen3-vl-2b', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: PREDICT_PROMPT }] }] });
  assert.equal(badImage.status, 400);
  const history = await post(sim, { model: 'qwen3-vl-2b', messages: [...verifyMessages(), { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'check_scene_prior', arguments: '{bad' } }] }, { role: 'tool', tool_call_id: 'c1', content: '{}' }] });
  assert.equal(history.status, 400, 'malformed tool-call arguments in the history');
  assert.match(JSON.parse(history.text).error.message, /messages\.1\.tool_calls\.0\.function\.arguments/);
  const long = await post(sim, { model: 'qwen3-vl-2b', max_tokens: 10_000_000, messages: verifyMessages() });
  const longErr = JSON.parse(long.text).error;
  assert.match(longErr.message, /^You passed \d+ input tokens and requested 10000000 output tokens\. However, the model's context length is only 32768 tokens, resulting in a maximum input length of -9967232 tokens\. Please reduce the length of the input prompt\./);
  assert.equal(longErr.param, 'input_tokens');
});

test('--stream-interval 4 on the wire: the first token alone, then 4 per event, the EOS step last; max_tokens = the text\'s tokens finishes "length"', async () => {
  // vllm/v1/engine/output_processor.py make_request_output (d0782260);
  // serving.py (5e918640) sends DeltaMessage(content=delta_text) for every
  // output without a parser, "" included.
  const text = 'FINAL_SCENE: flooded\nFINAL_LONG_ACTION: stop\nFINAL_LAT_ACTION: null';
  const t = encode(text).length;
  const stream = async (extra: Record<string, unknown>) => {
    const r = await post(sim, { model: 'echo', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: text }], ...extra });
    const chunks = events(r.text).slice(0, -1).map((e) => JSON.parse(e));
    return { body: chunks.slice(1, -1), usage: chunks.at(-1).usage };
  };
  const stopped = await stream({});
  assert.equal(stopped.body.length, 1 + Math.ceil(t / 4), `${t} text tokens + EOS in events of 1, 4, 4, ...`);
  assert.equal(stopped.body.map((c) => c.choices[0].delta.content).join(''), text);
  assert.equal(stopped.body.at(-1).choices[0].finish_reason, 'stop');
  assert.equal(stopped.usage.completion_tokens, t + 1);
  const capped = await stream({ max_tokens: t });
  assert.equal(capped.body.length, 1 + Math.ceil((t - 1) / 4));
  assert.equal(capped.body.map((c) => c.choices[0].delta.content).join(''), text);
  assert.equal(capped.body.at(-1).choices[0].finish_reason, 'length');
  assert.equal(capped.usage.completion_tokens, t);
});

test('max_tokens cuts the turn with finish_reason "length"', async () => {
  const r = await post(sim, { model: 'sceneiq-ft-2b', stream: true, max_tokens: 5, stream_options: { include_usage: true }, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }, { type: 'text', text: PREDICT_PROMPT }] }] });
  const chunks = events(r.text).slice(0, -1).map((e) => JSON.parse(e));
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
  assert.equal(chunks.at(-1).usage.completion_tokens, 5);
});

test('the openai client accepts the stream as is', async () => {
  const client = new OpenAI({ baseURL: sim.baseUrl, apiKey: 'k', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'sceneiq-ft-2b', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }, { type: 'text', text: PREDICT_PROMPT }] }] });
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
    usage = c.usage ?? usage;
  }
  assert.match(text, /^(SCENE: \w+\nLONG_ACTION: \w+\nLAT_ACTION: \w+\nWAYPOINTS: \[\[|The |I |SCENE: unclear)/);
  assert.equal(finish, 'stop');
  assert.ok(usage && usage.completion_tokens > 0);
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['qwen3-vl-2b', 'sceneiq-ft-2b', 'echo']);
});

test('server-parse mode: hermes-style tool_calls deltas that the openai client assembles', async () => {
  const client = new OpenAI({ baseURL: parse.baseUrl, apiKey: 'x', maxRetries: 0 });
  let calls = 0;
  for (let v = 0; v < 12 && calls === 0; v++) {
    const url = dataUrl(scenePng(['cone'], { variant: v }));
    const stream = client.chat.completions.stream({ model: 'qwen3-vl-8b', tools: TOOLS, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: verificationPrompt({ scene: 'incident_zone', longAction: 'slowdown', latAction: 'null' }) }] }] });
    const done = await stream.finalChatCompletion();
    const msg = done.choices[0]!.message;
    if (msg.tool_calls && msg.tool_calls.length > 0) {
      calls = msg.tool_calls.length;
      assert.equal(done.choices[0]!.finish_reason, 'tool_calls');
      for (const c of msg.tool_calls) {
        assert.equal(c.type, 'function');
        assert.match(c.id, /^chatcmpl-tool-[0-9a-f]{32}$/);
        if (c.type === 'function') assert.deepEqual(Object.keys(JSON.parse(c.function.arguments)).length > 0, true);
      }
      assert.ok(!(msg.content ?? '').includes('<tool_call>'));
    }
  }
  assert.ok(calls > 0, 'the 8B profile calls a tool for some image');
});

test('/health, /v1/models, /metrics with vLLM names; scrapeMetrics reads them', async () => {
  const root = sim.baseUrl.replace(/\/v1$/, '');
  const h = await fetch(`${root}/health`);
  assert.equal(h.status, 200);
  assert.equal(await h.text(), '');
  const m = await fetch(`${sim.baseUrl}/models`, { headers: { authorization: 'Bearer k' } }).then((r) => r.json()) as { object: string; data: Array<{ owned_by: string; max_model_len: number }> };
  assert.equal(m.object, 'list');
  assert.equal(m.data[0]!.owned_by, 'vllm');
  const text = await fetch(`${root}/metrics`).then((r) => r.text());
  for (const name of ['vllm:num_requests_waiting{', 'vllm:num_requests_running{', 'vllm:kv_cache_usage_perc{', 'vllm:prefix_cache_hits_total{', 'vllm:mm_cache_queries_total{', 'vllm:num_preemptions_total{', 'vllm:time_to_first_token_seconds_bucket{']) {
    assert.ok(text.includes(name), name);
  }
  // prometheus_client: a _created series per counter and histogram, float values.
  assert.match(text, /\nvllm:prompt_tokens_created\{model_name="qwen3-vl-2b",engine="0"\} \d\.\d+e\+09\n/);
  assert.match(text, /\nvllm:time_to_first_token_seconds_created\{/);
  assert.match(text, /\nvllm:num_requests_waiting\{model_name="qwen3-vl-2b",engine="0"\} 0\.0\n/);
  assert.match(text, /\nvllm:prompt_tokens_total\{model_name="qwen3-vl-2b",engine="0"\} \d+\.0\n/);
  const s = await scrapeMetrics(sim.baseUrl, 'k', 'qwen3-vl-2b');
  assert.ok(s);
  assert.equal(s.waiting, 0);
  assert.ok((s.prefixCacheQueries ?? 0) > 0);
  assert.ok((s.mmCacheHits ?? 0) > 0, 'the repeated image hit the mm cache');
  // The pre-0.9 names are read too.
  assert.deepEqual(parseVllmMetrics('vllm:num_requests_waiting{model_name="m"} 3\nvllm:num_requests_running{model_name="m"} 2\nvllm:gpu_cache_usage_perc{model_name="m"} 0.5\n')?.kvCacheUsage, 0.5);
  assert.equal(parseVllmMetrics('# nothing\n'), null);
});
