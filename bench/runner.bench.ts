// Driver CPU per streamed turn: the native hot path as `tce run` takes it
// on an http: endpoint (node:net raw sockets, HTTP/1.1 framing and the
// stream engine in C++: src/run/raw-http.ts), the same with the addon's I/O
// thread reading the sockets (TCE_RAW_SOCKETS=io, src/run/io-http.ts), the same C++ engine behind
// undici's dispatcher (the route it takes on https:), the TypeScript twin
// behind undici's dispatcher, and the `openai` client (today's common
// practice), on bursty and paced streams replayed from a separate process.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { measure, type BenchModule, type ScenarioResult } from './harness';
import { createStreamEngine } from '../src/extract/engine';
import { FeedBatcher } from '../src/run/feed-batcher';
import { NativeChatClient, OpenAIChatClient, type ChatClient, type RetryPolicy } from '../src/run/turn';
import { TOOL_NAMES } from '../src/protocol/tools';
import { readFloor } from './support/read-floor';

const TOKENS = 50;
// NATIVE is the route `tce run` takes by default on http: (the targets are its).
const NATIVE = 'native engine, tce run\'s default (node:net raw socket + C++ HTTP framing)';
const NATIVE_IO = 'native engine, TCE_RAW_SOCKETS=io (C++ I/O thread: epoll reads + C++ HTTP framing)';
const NATIVE_UNDICI = 'native engine (undici dispatcher + C++)';
const TWIN = 'TypeScript twin (undici dispatcher + JS)';
const OPENAI = 'openai client + regex';
const FLOOR = 'floor: node:net reads only (no HTTP, no SSE; not a client)';

/** A 50-token verifier turn with one tool call, framed exactly as vLLM frames it. */
function recordedEvents(): string[] {
  const text = '<tool_call>\n{"name": "check_confusion_risk", "arguments": {"predicted_scene": "incident_zone"}}\n</tool_call>\nFINAL_SCENE: nominal\nFINAL_LONG_ACTION: null\nFINAL_LAT_ACTION: null\nREVISED: yes\nREASON: cones only';
  const id = 'chatcmpl-0123456789abcdef0123456789abcdef';
  const head = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1760000000, model: 'qwen3-vl-8b', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, token_ids: null }] })}\n\n`;
  const out = [`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1760000000, model: 'qwen3-vl-8b', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], prompt_token_ids: null })}\n\n`];
  const step = Math.ceil(text.length / TOKENS);
  for (let i = 0; i < TOKENS; i++) out.push(head({ content: text.slice(i * step, (i + 1) * step) }, i === TOKENS - 1 ? 'stop' : null));
  out.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1760000000, model: 'qwen3-vl-8b', choices: [], usage: { prompt_tokens: 1200, total_tokens: 1250, completion_tokens: 50 } })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out;
}

export async function startReplay(mode: 'bursty' | 'paced'): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'support', 'replay-server.js'), mode], { env: { ...process.env, TCE_REPLAY_EVENTS: JSON.stringify(recordedEvents()) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}/v1`, child };
}

export async function drive(client: ChatClient, turns: number, concurrency: number): Promise<void> {
  const retry: RetryPolicy = { max: 0, baseDelayMs: 0, maxDelayMs: 0, requestTimeoutMs: 30_000 };
  let next = 0;
  const worker = async () => {
    while (next < turns) {
      next++;
      const r = await client.turn([{ role: 'user', content: 'x' }], { tools: [], toolNames: [], parseMode: 'client', maxTokens: 64, temperature: 0, seed: 1 }, { knownTools: TOOL_NAMES, answerKind: 'verify' }, retry);
      if (r.status !== 'ok' || r.result?.toolCalls.length !== 1 || r.result.finalAnswer.scene !== 'nominal') throw new Error(`bad turn: ${r.status} ${r.error}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The label must say the route that was measured. */
function routed(c: NativeChatClient, want: NativeChatClient['route']): NativeChatClient {
  if (c.route !== want) throw new Error(`runner bench: expected the ${want} route, the client took ${c.route}`);
  return c;
}

export const bench: BenchModule = {
  name: 'runner',
  async run() {
    const results: ScenarioResult[] = [];
    for (const mode of ['bursty', 'paced'] as const) {
      const { url, child } = await startReplay(mode);
      const ep = { role: 'verifier_8b' as const, baseUrl: url, apiKey: 'x', model: 'qwen3-vl-8b' };
      const turns = mode === 'bursty' ? 4000 : 1500;
      const contenders: Array<[string, () => ChatClient]> = [
        [NATIVE, () => { const e = createStreamEngine('native'); return routed(new NativeChatClient(ep, e, new FeedBatcher(e), 64), 'raw'); }],
        [NATIVE_IO, () => { const e = createStreamEngine('native'); return routed(new NativeChatClient(ep, e, new FeedBatcher(e), 64, 'io'), 'io'); }],
        [NATIVE_UNDICI, () => { const e = createStreamEngine('native'); return routed(new NativeChatClient(ep, e, new FeedBatcher(e), 64, 'undici'), 'undici'); }],
        [TWIN, () => { const e = createStreamEngine('typescript'); return routed(new NativeChatClient(ep, e, new FeedBatcher(e), 64), 'undici'); }],
        [OPENAI, () => new OpenAIChatClient(ep)],
      ];
      const rows = [];
      for (const [name, make] of contenders) {
        const client = make();
        const m = await measure(() => drive(client, turns, 64), turns, { trials: 3, warmup: 1 });
        await client.close();
        rows.push({ name, value: m.cpuNsPerOp / 1000, unit: 'driver CPU µs/turn', extra: { turnsPerSec: Math.round(1e9 / m.wallNsPerOp) } });
      }
      if (mode === 'paced') {
        // What the socket reads alone cost (the chunked end is what it watches for).
        const m = await measure(() => readFloor(url, turns, 64), turns, { trials: 3, warmup: 1 });
        rows.push({ name: FLOOR, value: m.cpuNsPerOp / 1000, unit: 'driver CPU µs/turn', extra: { turnsPerSec: Math.round(1e9 / m.wallNsPerOp) } });
      }
      child.kill('SIGTERM');
      results.push({
        bench: 'runner',
        scenario: `${mode} streams: ${TOKENS}-token turns, 64 in flight, replayed from a separate process`,
        better: 'lower',
        baseline: OPENAI,
        contenders: rows,
        // Issue 16: paced (one SSE event per body chunk, as a GPU server
        // streams) native >= 2x the twin and >= 10x openai; bursty >= 15x.
        targets: mode === 'bursty'
          ? [{ name: NATIVE, vs: OPENAI, ratio: 15 }]
          : [{ name: NATIVE, vs: TWIN, ratio: 2 }, { name: NATIVE, vs: OPENAI, ratio: 10 }],
        notes: `turns/s: ${rows.map((r) => `${r.name} ${r.extra.turnsPerSec}`).join(', ')}`,
      });
    }
    return results;
  },
};
