// Driver CPU per streamed turn: the native hot path as `tce run` takes it
// on an http: endpoint (the addon's I/O thread reading the sockets with its
// poll window, a wake's reads in one io_uring_enter, HTTP/1.1 framing and the
// stream engine in C++: src/run/io-http.ts), the same with a read() per
// socket, the same without the window, the same C++ engine on
// node:net raw sockets (TCE_RAW_SOCKETS=net, src/run/raw-http.ts) and
// behind undici's dispatcher (the route it takes on https:), the TypeScript
// twin behind undici's dispatcher, and the `openai` client (today's common
// practice), on bursty and paced streams replayed from a separate process.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { measureInterleaved, type BenchModule, type ScenarioResult } from './harness';
import { createStreamEngine } from '../src/extract/engine';
import { FeedBatcher } from '../src/run/feed-batcher';
import { NativeChatClient, OpenAIChatClient, type ChatClient, type RetryPolicy } from '../src/run/turn';
import { TOOL_NAMES } from '../src/protocol/tools';
import { readFloor } from './support/read-floor';
import { DEFAULT_IO_WINDOW_US, ioLoopStats, setIoBatch, setIoWindow } from '../src/run/io-http';
import { requireNative } from '../src/native/loader';
import { parseConfig } from '../src/config/load';

const TOKENS = 50;
// NATIVE is the route `tce run` takes by default on http: (the targets are its).
const NATIVE = `native engine, tce run's default (C++ I/O thread: epoll, a ${DEFAULT_IO_WINDOW_US} µs poll window, a wake's reads in one io_uring_enter + C++ HTTP framing)`;
const NATIVE_READ = 'the same, TCE_IO_URING=0 (a read() per ready socket)';
const NATIVE_NOW = 'the same, TCE_IO_URING=0 TCE_IO_WINDOW_US=0 (a wake and a read() per ready socket)';
const NATIVE_NET = 'native engine, TCE_RAW_SOCKETS=net (node:net raw socket + C++ HTTP framing)';
const NATIVE_UNDICI = 'native engine (undici dispatcher + C++)';
const TWIN = 'TypeScript twin (undici dispatcher + JS)';
const OPENAI = 'openai client + regex';
const FLOOR = 'floor: node:net reads only (no HTTP, no SSE; not a client)';

/** The interval tce asks of the vLLM servers it starts: backend.streamInterval's default. */
const TCE_STREAM_INTERVAL = parseConfig({}, 'defaults').backend.streamInterval;

/** A 50-token verifier turn with one tool call, framed exactly as vLLM frames it at
 * `--stream-interval` `interval` (vllm/v1/engine/output_processor.py
 * make_request_output: the first token alone, then every `interval` tokens,
 * and the finishing step; that step samples the stop token, whose text is ""
 * but which counts in completion_tokens: vllm/v1/engine/detokenizer.py). */
function recordedEvents(interval: number): string[] {
  const text = '<tool_call>\n{"name": "check_confusion_risk", "arguments": {"predicted_scene": "incident_zone"}}\n</tool_call>\nFINAL_SCENE: nominal\nFINAL_LONG_ACTION: null\nFINAL_LAT_ACTION: null\nREVISED: yes\nREASON: cones only';
  const id = 'chatcmpl-0123456789abcdef0123456789abcdef';
  const head = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1760000000, model: 'qwen3-vl-8b', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...(finish === null ? {} : { stop_reason: null }), token_ids: null }] })}\n\n`;
  const out = [`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1760000000, model: 'qwen3-vl-8b', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], prompt_token_ids: null })}\n\n`];
  // Token k (0-based) ends at cut(k + 1); token TOKENS is the stop token.
  const cut = (k: number) => Math.floor((Math.min(k, TOKENS) * text.length) / TOKENS);
  let sent = 0;
  for (let k = 1; k <= TOKENS + 1; k++) {
    const finished = k === TOKENS + 1;
    if (!finished && sent !== 0 && k - sent < interval) continue;
    out.push(head({ content: text.slice(cut(sent), cut(k)) }, finished ? 'stop' : null));
    sent = k;
  }
  out.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1760000000, model: 'qwen3-vl-8b', choices: [], usage: { prompt_tokens: 1200, total_tokens: 1200 + TOKENS + 1, completion_tokens: TOKENS + 1 } })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out;
}

export async function startReplay(mode: 'bursty' | 'paced', interval = 1): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'support', 'replay-server.js'), mode], { env: { ...process.env, TCE_REPLAY_EVENTS: JSON.stringify(recordedEvents(interval)) }, stdio: ['ignore', 'pipe', 'inherit'] });
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

/** tce run's default route (the I/O thread; its window is the shared loop's, set per run). */
function ioClient(ep: ConstructorParameters<typeof NativeChatClient>[0]): NativeChatClient {
  const e = createStreamEngine('native');
  return routed(new NativeChatClient(ep, e, new FeedBatcher(e), 64), 'io');
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
    // Issue 16's targets are set on one token per event (vLLM's default
    // --stream-interval 1); the interval tce asks of the servers it starts is
    // measured beside them, without targets.
    const scenarios = [
      { mode: 'bursty' as const, interval: 1 },
      { mode: 'paced' as const, interval: 1 },
      { mode: 'paced' as const, interval: TCE_STREAM_INTERVAL },
    ];
    for (const { mode, interval } of scenarios) {
      const { url, child } = await startReplay(mode, interval);
      const ep = { role: 'verifier_8b' as const, baseUrl: url, apiKey: 'x', model: 'qwen3-vl-8b' };
      const turns = mode === 'bursty' ? 4000 : 1500;
      const addon = requireNative();
      const native = (route: 'net' | 'undici'): ChatClient => { const e = createStreamEngine('native'); return routed(new NativeChatClient(ep, e, new FeedBatcher(e), 64, route), route === 'net' ? 'raw' : 'undici'); };
      const specs: Array<{ name: string; make?: () => ChatClient; windowUs?: number; batch?: boolean }> = [
        { name: NATIVE, make: () => ioClient(ep), windowUs: DEFAULT_IO_WINDOW_US, batch: true },
        { name: NATIVE_READ, make: () => ioClient(ep), windowUs: DEFAULT_IO_WINDOW_US, batch: false },
        { name: NATIVE_NOW, make: () => ioClient(ep), windowUs: 0, batch: false },
        { name: NATIVE_NET, make: () => native('net') },
        { name: NATIVE_UNDICI, make: () => native('undici') },
        { name: TWIN, make: () => { const e = createStreamEngine('typescript'); return routed(new NativeChatClient(ep, e, new FeedBatcher(e), 64), 'undici'); } },
        { name: OPENAI, make: () => new OpenAIChatClient(ep) },
        // What the socket reads alone cost (the chunked end is what it watches
        // for): the yardstick of the per-event targets, so measured with them.
        ...(mode === 'paced' && interval === 1 ? [{ name: FLOOR }] : []),
      ];
      // Each contender's client lives across the rounds; the I/O-thread
      // contenders share the process's loop and set its window and batching
      // before each run.
      const contenders = specs.map((c) => ({ ...c, client: c.make?.(), wakes: 0, reads: 0, batched: 0 }));
      const runs = contenders.map((c) => async () => {
        if (!c.client) return readFloor(url, turns, 64);
        if (c.windowUs === undefined) return drive(c.client, turns, 64);
        setIoWindow(addon, c.windowUs);
        setIoBatch(addon, c.batch !== false);
        const s0 = ioLoopStats(addon)!;
        await drive(c.client, turns, 64);
        const s1 = ioLoopStats(addon)!;
        c.wakes += s1.wakes - s0.wakes;
        c.reads += s1.reads - s0.reads;
        c.batched += s1.batchedReads - s0.batchedReads;
      });
      const ms = await measureInterleaved(runs, turns, { trials: 3, warmup: 1 });
      for (const c of contenders) await c.client?.close();
      setIoWindow(addon, DEFAULT_IO_WINDOW_US);
      setIoBatch(addon, true);
      const rows = contenders.map((c, i) => ({ name: c.name, value: ms[i]!.cpuNsPerOp / 1000, unit: 'driver CPU µs/turn', extra: { turnsPerSec: Math.round(1e9 / ms[i]!.wallNsPerOp) } }));
      // What the window buys: the I/O thread's wakes and reads per turn (warm-up and trials).
      const per = (n: number) => Math.round((n / (4 * turns)) * 10) / 10;
      // The ring's state is printed, not assumed: where the kernel refuses io_uring, the default reads with read().
      const ioNotes = contenders.filter((c) => c.windowUs !== undefined).map((c) => `${c.windowUs} µs window${c.batch ? `, io_uring (${ioLoopStats(addon)!.batch}; ${per(c.batched)} of the reads in batches)` : ', read()'} ${per(c.wakes)} / ${per(c.reads)}`);
      child.kill('SIGTERM');
      results.push({
        bench: 'runner',
        scenario: `${mode} streams: ${TOKENS}-token turns${interval === 1 ? '' : `, --stream-interval ${interval} (tce's default for the servers it starts; no target)`}, 64 in flight, replayed from a separate process`,
        better: 'lower',
        baseline: OPENAI,
        contenders: rows,
        // Issue 16: paced (one SSE event per body chunk, as a GPU server
        // streams) native >= 2x the twin and >= 10x openai; bursty >= 15x.
        targets: interval !== 1 ? [] : mode === 'bursty'
          ? [{ name: NATIVE, vs: OPENAI, ratio: 15 }]
          : [{ name: NATIVE, vs: TWIN, ratio: 2 }, { name: NATIVE, vs: OPENAI, ratio: 10 }],
        notes: `turns/s: ${rows.map((r) => `${r.name} ${r.extra.turnsPerSec}`).join(', ')}; the I/O thread's wakes / reads per turn: ${ioNotes.join(', ')}`,
      });
    }
    return results;
  },
};
