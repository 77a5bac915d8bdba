// The raw route's behaviours, shared by its two socket kinds: node:net
// (test 6g) and the addon's I/O thread (test 6h). Against a hostile scripted
// TCP server (chunked with extensions and trailers, Content-Length, 4xx/5xx,
// closes, garbage, deadlines, idle sockets the server closed) and the
// simulator, turn for turn against the undici route on the same servers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dns, { type LookupAddress } from 'node:dns';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import net from 'node:net';
import { startSimulator } from '../../src/backends/sim/server';
import { createStreamEngine } from '../../src/extract/engine';
import { NativeStreamEngine } from '../../src/extract/native-engine';
import type { StreamEngineOptions } from '../../src/extract/types';
import { FeedBatcher } from '../../src/run/feed-batcher';
import { NativeChatClient, type RetryPolicy, type TurnOutcome, type TurnRoute } from '../../src/run/turn';
import { RawHttpPool, type RawPoolOptions } from '../../src/run/raw-http';
import { ioConnector } from '../../src/run/io-http';
import { attemptOrder } from '../../src/run/addresses';
import { UndiciTransport, type TurnTransport } from '../../src/run/engine-dispatch';
import { PREDICT_PROMPT } from '../../src/protocol/prompts';
import { TOOL_NAMES } from '../../src/protocol/tools';
import { scenePng, dataUrl } from '../fake-vllm/scene-png';

export type RawKind = 'net' | 'io';

export const OPTS: StreamEngineOptions = { knownTools: TOOL_NAMES, answerKind: 'verify' };
export const NO_RETRY: RetryPolicy = { max: 0, baseDelayMs: 0, maxDelayMs: 0, requestTimeoutMs: 5000 };

export const sse = (delta: object, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
export const EVENTS = [
  sse({ role: 'assistant', content: '' }),
  sse({ content: '<tool_call>\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "nominal"}}\n</tool_call>\n' }),
  sse({ content: 'FINAL_SCENE: nominal\nREVISED: no\nREASON: é — fine' }, 'stop'),
  `data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 10, completion_tokens: 7, total_tokens: 17 } })}\n\n`,
  'data: [DONE]\n\n',
];
export const BODY = EVENTS.join('');
export const HEAD_200 = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n';

/** Chunked transfer coding of `parts`, with chunk extensions and a trailer. */
export function chunked(parts: string[], extras = true): string {
  let out = '';
  for (const p of parts) out += `${Buffer.byteLength(p).toString(16)}${extras ? ';name="v a";x' : ''}\r\n${p}\r\n`;
  return out + (extras ? '0;end\r\nx-trailer: 1\r\nx-other: two\r\n\r\n' : '0\r\n\r\n');
}
export const CHUNKED_200 = `${HEAD_200}transfer-encoding: chunked\r\n\r\n${chunked(EVENTS)}`;
export const LENGTH_200 = `${HEAD_200}content-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;

export interface Scripted {
  url: string;
  /** Sockets accepted so far. */
  sockets: number;
  /** Most sockets open at once. */
  peak: number;
  close(): Promise<void>;
}

const PEAK_SETTLE_MS = 5;
/** Lets the last accepts' peak counts run before a test reads `peak`. */
export const peakSettled = () => new Promise((r) => setTimeout(r, 4 * PEAK_SETTLE_MS));

/** A TCP server that reads each request (head + Content-Length body) and
 * answers with `respond(socket, n)`: n counts requests on all sockets. */
export async function scripted(respond: (s: net.Socket, n: number) => void): Promise<Scripted> {
  let n = 0;
  let open = 0;
  const all = new Set<net.Socket>();
  const st = { sockets: 0, peak: 0 };
  const server = net.createServer((s) => {
    st.sockets++;
    open++;
    // Counted a moment after the accept, and a socket stops counting when
    // the client's FIN is read ('end'), not when its close event runs: a
    // socket the client closed just before it connected this one has its FIN
    // ahead of this accept, while its close event can come iterations later
    // on a loaded machine (the server's own end() must be written first; CI
    // saw 2 at 5 ms). A socket that really overlaps sent no FIN: it counts.
    // Read in the check phase after the timer's: when the loop was blocked
    // past the timer, the timers phase runs before the poll phase that reads
    // a FIN which was already there (6h saw 2 once that way, at load ~1).
    setTimeout(() => setImmediate(() => { st.peak = Math.max(st.peak, open); }), PEAK_SETTLE_MS);
    all.add(s);
    let counted = true;
    const gone = () => { if (counted) { counted = false; open--; } };
    s.on('end', gone);
    s.on('close', () => { gone(); all.delete(s); });
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.subarray(0, end).toString())?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        buf = buf.subarray(end + 4 + len);
        respond(s, n++);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get sockets() { return st.sockets; },
    get peak() { return st.peak; },
    close: () => new Promise<void>((r) => { for (const s of all) s.destroy(); server.close(() => r()); }),
  };
}


/** dns.lookup answers `host` with `addrs` (every other name as before); the
 * returned list says, per lookup of `host`, whether it asked for all addresses. */
export function mockLookup(t: TestContext, host: string, addrs: LookupAddress[]): boolean[] {
  const real = dns.lookup;
  const asked: boolean[] = [];
  t.mock.method(dns, 'lookup', (name: string, opts: unknown, cb?: (...a: unknown[]) => void) => {
    if (name !== host) return (real as (...a: unknown[]) => void)(name, opts, cb);
    const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
    const all = typeof opts === 'object' && opts !== null && (opts as { all?: boolean }).all === true;
    asked.push(all);
    process.nextTick(() => (all ? callback(null, addrs) : callback(null, addrs[0]!.address, addrs[0]!.family)));
  });
  return asked;
}

/** host:port where the kernel drops every SYN: a listener (python3: node
 * accepts by itself) with a backlog of 0 that never accepts, its one queue
 * place taken by its own connection. As an address behind a firewall that
 * drops packets: a connect there neither succeeds nor fails. */
export async function synDrop(host: string, port: number): Promise<{ stop: () => void }> {
  const code = 'import socket, sys, time\ns = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(0)\nf = socket.create_connection((sys.argv[1], int(sys.argv[2])))\nprint("ready", flush=True)\ntime.sleep(120)';
  const py = spawn('python3', ['-c', code, host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    py.once('error', reject);
    py.once('exit', (c) => reject(new Error(`python3 exited (${c}) before it listened on ${host}:${port}`)));
    py.stdout!.once('data', () => resolve());
  });
  return { stop: () => py.kill() };
}

export function client(url: string, route: TurnRoute = 'net', connections = 4): NativeChatClient {
  const engine = createStreamEngine('native');
  const c = new NativeChatClient({ role: 'verifier_8b', baseUrl: url, apiKey: 'k', model: 'm' }, engine, new FeedBatcher(engine), connections, route);
  assert.equal(c.route, route === 'io' ? 'io' : route === 'undici' ? 'undici' : 'raw');
  return c;
}

export const turn = (c: NativeChatClient, retry: RetryPolicy = NO_RETRY, content = 'x'): Promise<TurnOutcome> =>
  c.turn([{ role: 'user', content }], { tools: [], toolNames: [], parseMode: 'client', maxTokens: 64, temperature: 0, seed: 1 }, OPTS, retry);

/** What must agree between routes and framings. */
export function essence(o: TurnOutcome): unknown {
  const r = o.result;
  return { status: o.status, error: o.error, retries: o.retries, text: r?.text, calls: r?.toolCalls, content: r?.content, finish: r?.finishReason, usage: r?.usage, done: r?.sawDone, answer: r?.finalAnswer };
}

export async function withServer<T>(respond: (s: net.Socket, n: number) => void, fn: (srv: Scripted) => Promise<T>): Promise<T> {
  const srv = await scripted(respond);
  try {
    return await fn(srv);
  } finally {
    await srv.close();
  }
}

/** A RawHttpPool over `kind`'s sockets (the I/O thread must be there for 'io'). */
export function rawPool(kind: RawKind, engine: NativeStreamEngine, origin: URL, path: string, headers: readonly string[], opts: RawPoolOptions): RawHttpPool {
  const raw = { ...engine.binding, streams: engine };
  const connect = kind === 'io' ? ioConnector(raw) : undefined;
  if (connect === null) throw new Error('no I/O thread in this process');
  const pool = new RawHttpPool(raw, origin, path, headers, opts, connect);
  assert.equal(pool.route, kind === 'io' ? 'io' : 'raw');
  return pool;
}

/** Registers the behaviours every raw socket kind must have. */
export function rawRouteTests(kind: RawKind): void {
  test(`[${kind}] chunked (extensions, trailers) and Content-Length bodies give the same turn as undici, over one kept-alive socket`, async () => {
    for (const wire of [CHUNKED_200, LENGTH_200]) {
      await withServer((s) => s.write(wire), async (srv) => {
        const raw = client(srv.url, kind);
        const und = client(srv.url, 'undici');
        const a = [await turn(raw), await turn(raw), await turn(raw)];
        const b = await turn(und);
        await raw.close();
        await und.close();
        assert.equal(a[0]!.status, 'ok', a[0]!.error ?? '');
        assert.equal(a[0]!.result!.toolCalls.length, 1);
        assert.equal(a[0]!.result!.finalAnswer.scene, 'nominal');
        for (const x of a) assert.deepEqual(essence(x), essence(b));
        assert.equal(srv.sockets, 2, 'three raw turns on one socket, one undici socket');
      });
    }
  });

  test(`[${kind}] every body chunk split across TCP writes: the same turn as undici`, async () => {
    const bytes = Buffer.from(CHUNKED_200);
    let cut = 1;
    await withServer((s) => {
      // Two writes with a pause, so they arrive as two reads.
      const k = cut;
      s.write(bytes.subarray(0, k));
      setTimeout(() => s.write(bytes.subarray(k)), 2);
    }, async (srv) => {
      const raw = client(srv.url, kind);
      const und = client(srv.url, 'undici');
      const want = essence(await turn(und));
      for (cut = 1; cut < bytes.length; cut += 7) assert.deepEqual(essence(await turn(raw)), want, `split at ${cut}`);
      await raw.close();
      await und.close();
    });
  });

  test(`[${kind}] 4xx/5xx with JSON bodies: the same status, headers and text as undici`, async () => {
    const json = JSON.stringify({ object: 'error', message: 'This model\'s maximum context length is 32 tokens', type: 'BadRequestError', code: 400 });
    const responses = [
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n${json}`,
      `HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ntransfer-encoding: chunked\r\n\r\n${chunked([json.slice(0, 10), json.slice(10)])}`,
    ];
    for (const wire of responses) {
      await withServer((s) => s.write(wire), async (srv) => {
        const u = new URL(srv.url);
        const engine = createStreamEngine('native') as NativeStreamEngine;
        const headers = ['content-type', 'application/json'];
        const raw: TurnTransport = rawPool(kind, engine, u, '/v1/chat/completions', headers, { connections: 2, keepAliveMs: 4000 });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Pool } = require('undici') as typeof import('undici');
        const und: TurnTransport = new UndiciTransport(new Pool(u.origin), engine, new FeedBatcher(engine));
        const req = { path: '/v1/chat/completions', headers, body: Buffer.from('{}'), timeoutMs: 5000 };
        const a = await raw.send(req, OPTS);
        const b = await und.send(req, OPTS);
        await raw.close();
        await und.close();
        assert.deepEqual({ ...a, headers: { ...a.headers } }, { ...b, headers: { ...b.headers } });
        assert.equal(a.handle, -1);
      });
    }
    // Through the client: a 400 is final, a 503 retried (Retry-After honoured) then reported.
    await withServer((s) => s.write(responses[1]!), async (srv) => {
      const raw = client(srv.url, kind);
      const t0 = Date.now();
      const o = await turn(raw, { ...NO_RETRY, max: 1 });
      await raw.close();
      assert.deepEqual([o.status, o.retries, o.error], ['server_error', 1, 'HTTP 503: This model\'s maximum context length is 32 tokens']);
      assert.ok(Date.now() - t0 >= 900, 'waited the Retry-After second');
    });
  });

  test(`[${kind}] a connection closed mid-body, garbage and an oversize head fail the turn as with undici`, async () => {
    const cases: Array<[string, (s: net.Socket) => void, RegExp]> = [
      ['closed mid-body', (s) => s.end(`${HEAD_200}transfer-encoding: chunked\r\n\r\n${chunked(EVENTS.slice(0, 2), false).slice(0, -5)}`), /^connection dropped mid-stream: /],
      ['reset before any byte', (s) => s.resetAndDestroy(), /^connection failed: /],
      ['garbage status line', (s) => s.end('SSH-2.0-OpenSSH\r\n\r\n'), /^connection failed: /],
      ['oversize head', (s) => s.end(`${HEAD_200}x-big: ${'a'.repeat(20_000)}\r\n\r\n`), /^connection failed: /],
      ['Content-Length cut short', (s) => s.end(`${HEAD_200}content-length: ${BODY.length}\r\n\r\n${BODY.slice(0, 50)}`), /^connection dropped mid-stream: /],
    ];
    for (const [name, respond, want] of cases) {
      await withServer(respond, async (srv) => {
        const raw = client(srv.url, kind);
        const und = client(srv.url, 'undici');
        const a = await turn(raw);
        const b = await turn(und);
        await raw.close();
        await und.close();
        assert.equal(a.status, 'server_error', name);
        assert.equal(b.status, 'server_error', name);
        assert.match(a.error!, want, `${name}: ${a.error}`);
        assert.match(b.error!, want, `${name} (undici): ${b.error}`);
      });
    }
  });

  test(`[${kind}] deadlines: before the head a timeout, after it a stalled stream; the socket is not reused`, async () => {
    await withServer((s, n) => {
      if (n === 0) return; // never answers
      if (n === 1) s.write(`${HEAD_200}transfer-encoding: chunked\r\n\r\n${chunked(EVENTS.slice(0, 2), false).slice(0, -5)}`);
      else s.write(CHUNKED_200);
    }, async (srv) => {
      const raw = client(srv.url, kind, 1);
      const retry = { ...NO_RETRY, requestTimeoutMs: 150 };
      const a = await turn(raw, retry);
      assert.deepEqual([a.status, a.error], ['timeout', 'request timed out after 150 ms']);
      const b = await turn(raw, retry);
      assert.deepEqual([b.status, b.error], ['timeout', 'stream stalled: no completion within 150 ms']);
      const c = await turn(raw, retry);
      assert.equal(c.status, 'ok', c.error ?? '');
      await raw.close();
      assert.equal(srv.sockets, 3, 'a socket cut by a deadline is not used again');
    });
  });

  test(`[${kind}] a deadline also covers the wait for a socket: queued requests time out, one socket at a time`, async () => {
    await withServer(() => undefined, async (srv) => {
      const raw = client(srv.url, kind, 1);
      const out = await Promise.all([1, 2, 3].map(() => turn(raw, { ...NO_RETRY, requestTimeoutMs: 100 })));
      assert.deepEqual(out.map((o) => [o.status, o.error]), Array(3).fill(['timeout', 'request timed out after 100 ms']));
      await peakSettled();
      assert.ok(srv.peak <= 1, `one socket at a time (saw ${srv.peak})`);
      await raw.close();
    });
  });

  test(`[${kind}] an idle socket the server closed is not reused; the pool never opens more than its connections`, async () => {
    await withServer((s, n) => {
      // The first response ends the connection from the server's side after a moment.
      s.write(CHUNKED_200);
      if (n === 0) setTimeout(() => s.end(), 20);
    }, async (srv) => {
      const raw = client(srv.url, kind, 2);
      assert.equal((await turn(raw)).status, 'ok');
      // Time for the client to read the FIN: 280 ms after the server's end,
      // because the I/O thread is one more thread to schedule, and under load
      // (CI, three test processes on two cores) 60 ms was once not enough.
      await new Promise((r) => setTimeout(r, 300));
      // Then past one poll phase: under load the timer can fire in the same
      // loop turn as the FIN arrives, before node:net has read it (a loop
      // lagging past that is the late-idle test below).
      await new Promise((r) => setImmediate(r));
      const again = await turn(raw);
      assert.equal(again.status, 'ok', again.error ?? '');
      assert.equal(srv.sockets, 2);
      const many = await Promise.all(Array.from({ length: 9 }, () => turn(raw)));
      assert.deepEqual(many.map((o) => o.status), Array(9).fill('ok'));
      await peakSettled();
      assert.ok(srv.peak <= 2, `at most 2 sockets at once (saw ${srv.peak})`);
      await raw.close();
    });
    // Connection: close from the server: the next request takes a new socket.
    await withServer((s) => s.end(`${HEAD_200}connection: close\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`), async (srv) => {
      const raw = client(srv.url, kind);
      for (let i = 0; i < 3; i++) assert.equal((await turn(raw)).status, 'ok');
      await raw.close();
      assert.equal(srv.sockets, 3);
    });
  });

  test(`[${kind}] an event loop that lags past the idle time: the late-idle socket is not used (the server closed it on time)`, async () => {
    // The server in its own process, so it closes idle sockets on time while this loop is blocked.
    const { spawn } = await import('node:child_process');
    // It closes each socket 150 ms after its response, as uvicorn's idle keep-alive does.
    const code = `const b = ${JSON.stringify(BODY)};
      require('node:net').createServer((c) => {
        let t; c.on('error', () => {});
        c.on('data', (d) => { clearTimeout(t); if (!d.toString().endsWith('{}')) return;
          c.write('HTTP/1.1 200 OK\\r\\ncontent-length: ' + Buffer.byteLength(b) + '\\r\\n\\r\\n' + b); t = setTimeout(() => c.end(), 150); });
      }).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
      const engine = createStreamEngine('native') as NativeStreamEngine;
      const pool = rawPool(kind, engine, new URL(`http://127.0.0.1:${port}/v1`), '/v1/chat/completions', ['content-type', 'application/json'], { connections: 1, keepAliveMs: 100 });
      const req = { path: '/v1/chat/completions', headers: [], body: Buffer.from('{}'), timeoutMs: 5000 };
      const first = await pool.send(req, OPTS);
      assert.equal(first.status, 200);
      engine.close(first.handle);
      const until = Date.now() + 400;
      while (Date.now() < until) { /* the driver's loop is busy: the idle timer cannot fire */ }
      const second = await pool.send(req, OPTS);
      assert.equal(second.status, 200);
      engine.close(second.handle);
      await pool.close();
    } finally {
      child.kill();
    }
  });

  test(`[${kind}] a refused connection and a closed client fail the turn without a crash`, async () => {
    const srv = await scripted(() => undefined);
    const url = srv.url;
    await srv.close();
    const raw = client(url, kind);
    const o = await turn(raw);
    assert.equal(o.status, 'server_error');
    assert.match(o.error!, /^connection failed: connect ECONNREFUSED/);
    await raw.close();
    const again = await turn(raw);
    assert.match(again.error!, /client is closed/);
  });

  test(`[${kind}] a host name with several addresses: tried in node:net's order until one takes it; when none does, the error names every attempt`, async (t) => {
    // The server listens on 127.0.0.1 alone: ::1 and 127.0.0.2 refuse.
    const asked = mockLookup(t, 'multi.test', [{ address: '::1', family: 6 }, { address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
    const srv = await scripted((s) => s.write(CHUNKED_200));
    const port = new URL(srv.url).port;
    const url = `http://multi.test:${port}/v1`;
    const ok = client(url, kind);
    const a = await turn(ok);
    assert.equal(a.status, 'ok', a.error ?? '');
    await ok.close();
    await srv.close();
    assert.deepEqual(asked, [true], 'one lookup, for every address');
    // undici's route (https:, the twin) too: its connector is node:net's.
    for (const route of [kind, 'undici'] as const) {
      const refused = client(url, route);
      const b = await turn(refused);
      assert.equal(b.status, 'server_error');
      assert.equal(b.error, `connection failed: connect ECONNREFUSED ::1:${port}; connect ECONNREFUSED 127.0.0.2:${port}; connect ECONNREFUSED 127.0.0.1:${port}`, route);
      await refused.close();
    }
    assert.deepEqual(attemptOrder([{ address: '10.0.0.1', family: 4 }, { address: '::2', family: 6 }, { address: '10.0.0.2', family: 4 }, { address: '::3', family: 6 }, { address: '::2', family: 6 }]),
      ['10.0.0.1', '::2', '10.0.0.2', '::3'], 'the first address\'s family first, then alternating, each once');
  });

  test(`[${kind}] a host name whose first address drops the connect: the next is tried after node:net's attempt timeout, and the timed-out attempt is named`, async (t) => {
    mockLookup(t, 'drop.test', [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }]);
    const srv = await scripted((s) => s.write(CHUNKED_200));
    const port = new URL(srv.url).port;
    const hole = await synDrop('127.0.0.2', Number(port));
    try {
      const url = `http://drop.test:${port}/v1`;
      const c = client(url, kind);
      const t0 = performance.now();
      const a = await turn(c);
      const ms = performance.now() - t0;
      await c.close();
      assert.equal(a.status, 'ok', a.error ?? '');
      // 250 ms on 127.0.0.2 first, then the second address; waiting on the
      // first would last past the request's 5 s deadline (the kernel resends
      // the SYN for minutes, and every one is dropped).
      assert.ok(ms >= 200 && ms < 4000, `connected through the second address after the 250 ms attempt timeout: ${Math.round(ms)} ms`);
      await srv.close();
      for (const route of [kind, 'undici'] as const) {
        const refused = client(url, route);
        const b = await turn(refused);
        assert.equal(b.status, 'server_error');
        assert.equal(b.error, `connection failed: connect ETIMEDOUT 127.0.0.2:${port}; connect ECONNREFUSED 127.0.0.1:${port}`, route);
        await refused.close();
      }
    } finally {
      hole.stop();
      await srv.close();
    }
  });

  test(`[${kind}] the simulator: raw and undici routes give identical turns (texts, tool calls, statuses)`, async () => {
    const sim = await startSimulator({ seed: 3, latency: false, streamInterval: 1, models: [{ servedModelName: 'm', profile: 'sceneiq-ft-2b' }] });
    const busy = await startSimulator({ seed: 3, latency: false, faults: { statusRates: { 429: 1 } }, models: [{ servedModelName: 'm', profile: 'sceneiq-ft-2b' }] });
    try {
      for (const s of [sim, busy]) {
        const raw = client(s.baseUrl, kind);
        const und = client(s.baseUrl, 'undici');
        for (const cues of [['cone'], ['water'], [], ['flagger_vest', 'flag'], ['horse']]) {
          const msg = [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: dataUrl(scenePng(cues as never)) } }, { type: 'text' as const, text: PREDICT_PROMPT }] }];
          const params = { tools: [], toolNames: [], parseMode: 'client' as const, maxTokens: 256, temperature: 0, seed: 1 };
          const [a, b] = await Promise.all([raw.turn(msg as never, params, OPTS, NO_RETRY), und.turn(msg as never, params, OPTS, NO_RETRY)]);
          assert.deepEqual(essence(a), essence(b), cues.join(','));
          if (s === sim) assert.ok(a.status === 'ok' && a.result!.text.length > 20, a.error ?? '');
          else assert.match(a.error!, /^HTTP 429/);
        }
        await raw.close();
        await und.close();
      }
    } finally {
      await sim.close();
      await busy.close();
    }
  });
}
