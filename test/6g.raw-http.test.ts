// The native engine's raw-socket route (src/run/raw-http.ts, framing in
// native/src/core/http_response.cc): against a hostile scripted TCP server
// (chunked with extensions and trailers, Content-Length, 4xx/5xx, closes,
// oversize heads, garbage, deadlines, idle sockets the server closed), the
// framer itself at every byte boundary and under random damage, and turn
// for turn against the undici route on the same servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startSimulator } from '../src/backends/sim/server';
import { createStreamEngine } from '../src/extract/engine';
import { NativeStreamEngine } from '../src/extract/native-engine';
import type { StreamEngineOptions } from '../src/extract/types';
import { requireNative } from '../src/native/loader';
import type { NativeHttpResult } from '../src/native/native-api';
import { FeedBatcher } from '../src/run/feed-batcher';
import { NativeChatClient, type RetryPolicy, type TurnOutcome, type TurnRoute } from '../src/run/turn';
import { RawHttpPool } from '../src/run/raw-http';
import { UndiciTransport, type TurnTransport } from '../src/run/engine-dispatch';
import { PREDICT_PROMPT } from '../src/protocol/prompts';
import { TOOL_NAMES } from '../src/protocol/tools';
import { scenePng, dataUrl } from './fake-vllm/scene-png';

const OPTS: StreamEngineOptions = { knownTools: TOOL_NAMES, answerKind: 'verify' };
const NO_RETRY: RetryPolicy = { max: 0, baseDelayMs: 0, maxDelayMs: 0, requestTimeoutMs: 5000 };

const sse = (delta: object, finish: string | null = null): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const EVENTS = [
  sse({ role: 'assistant', content: '' }),
  sse({ content: '<tool_call>\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "nominal"}}\n</tool_call>\n' }),
  sse({ content: 'FINAL_SCENE: nominal\nREVISED: no\nREASON: é — fine' }, 'stop'),
  `data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 10, completion_tokens: 7, total_tokens: 17 } })}\n\n`,
  'data: [DONE]\n\n',
];
const BODY = EVENTS.join('');
const HEAD_200 = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n';

/** Chunked transfer coding of `parts`, with chunk extensions and a trailer. */
function chunked(parts: string[], extras = true): string {
  let out = '';
  for (const p of parts) out += `${Buffer.byteLength(p).toString(16)}${extras ? ';name="v a";x' : ''}\r\n${p}\r\n`;
  return out + (extras ? '0;end\r\nx-trailer: 1\r\nx-other: two\r\n\r\n' : '0\r\n\r\n');
}
const CHUNKED_200 = `${HEAD_200}transfer-encoding: chunked\r\n\r\n${chunked(EVENTS)}`;
const LENGTH_200 = `${HEAD_200}content-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;

interface Scripted {
  url: string;
  /** Sockets accepted so far. */
  sockets: number;
  /** Most sockets open at once. */
  peak: number;
  close(): Promise<void>;
}

const PEAK_SETTLE_MS = 5;
/** Lets the last accepts' peak counts run before a test reads `peak`. */
const peakSettled = () => new Promise((r) => setTimeout(r, 4 * PEAK_SETTLE_MS));

/** A TCP server that reads each request (head + Content-Length body) and
 * answers with `respond(socket, n)`: n counts requests on all sockets. */
async function scripted(respond: (s: net.Socket, n: number) => void): Promise<Scripted> {
  let n = 0;
  let open = 0;
  const all = new Set<net.Socket>();
  const st = { sockets: 0, peak: 0 };
  const server = net.createServer((s) => {
    st.sockets++;
    open++;
    // Counted a moment after the accept: a socket the client destroyed just
    // before it connected this one is still open here until its close event
    // runs, later in this loop; a socket that really overlaps stays open.
    setTimeout(() => { st.peak = Math.max(st.peak, open); }, PEAK_SETTLE_MS);
    all.add(s);
    s.on('close', () => { open--; all.delete(s); });
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

function client(url: string, route: TurnRoute = 'auto', connections = 4): NativeChatClient {
  const engine = createStreamEngine('native');
  const c = new NativeChatClient({ role: 'verifier_8b', baseUrl: url, apiKey: 'k', model: 'm' }, engine, new FeedBatcher(engine), connections, route);
  assert.equal(c.route, route === 'auto' ? 'raw' : 'undici');
  return c;
}

const turn = (c: NativeChatClient, retry: RetryPolicy = NO_RETRY, content = 'x'): Promise<TurnOutcome> =>
  c.turn([{ role: 'user', content }], { tools: [], toolNames: [], parseMode: 'client', maxTokens: 64, temperature: 0, seed: 1 }, OPTS, retry);

/** What must agree between routes and framings. */
function essence(o: TurnOutcome): unknown {
  const r = o.result;
  return { status: o.status, error: o.error, retries: o.retries, text: r?.text, calls: r?.toolCalls, content: r?.content, finish: r?.finishReason, usage: r?.usage, done: r?.sawDone, answer: r?.finalAnswer };
}

async function withServer<T>(respond: (s: net.Socket, n: number) => void, fn: (srv: Scripted) => Promise<T>): Promise<T> {
  const srv = await scripted(respond);
  try {
    return await fn(srv);
  } finally {
    await srv.close();
  }
}

test('chunked (extensions, trailers) and Content-Length bodies give the same turn as undici, over one kept-alive socket', async () => {
  for (const wire of [CHUNKED_200, LENGTH_200]) {
    await withServer((s) => s.write(wire), async (srv) => {
      const raw = client(srv.url);
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

test('every body chunk split across TCP writes: the same turn as undici', async () => {
  const bytes = Buffer.from(CHUNKED_200);
  let cut = 1;
  await withServer((s) => {
    // Two writes with a pause, so they arrive as two reads.
    const k = cut;
    s.write(bytes.subarray(0, k));
    setTimeout(() => s.write(bytes.subarray(k)), 2);
  }, async (srv) => {
    const raw = client(srv.url);
    const und = client(srv.url, 'undici');
    const want = essence(await turn(und));
    for (cut = 1; cut < bytes.length; cut += 7) assert.deepEqual(essence(await turn(raw)), want, `split at ${cut}`);
    await raw.close();
    await und.close();
  });
});

/** Frames `pieces` (one httpRead each) into a fresh engine stream. */
function frame(pieces: Buffer[]): { codes: number[]; result: unknown } {
  const addon = requireNative();
  const engine = new NativeStreamEngine(addon);
  const h = engine.binding.engine;
  const conn = addon.httpOpen(h);
  const stream = engine.open(OPTS);
  addon.httpBegin(h, conn, stream);
  const codes = pieces.map((p, i) => addon.httpRead(h, conn, p, p.length, i));
  const r = engine.finish(stream);
  addon.httpClose(h, conn);
  return { codes: codes.filter((c) => c !== 0), result: { text: r.text, calls: r.toolCalls, finish: r.finishReason, usage: r.usage, done: r.sawDone } };
}

/** One response through a fresh framer with no engine stream: the outcome
 * code (after the close, with `eof`, when it was still open) and httpResult. */
function frameOnce(wire: string, eof = false): { code: number; result: NativeHttpResult } {
  const addon = requireNative();
  const h = new NativeStreamEngine(addon).binding.engine;
  const conn = addon.httpOpen(h);
  addon.httpBegin(h, conn, 0);
  const b = Buffer.from(wire);
  let code = addon.httpRead(h, conn, b, b.length, 0);
  if (eof && code === 0) code = addon.httpEof(h, conn);
  const result = addon.httpResult(h, conn);
  addon.httpClose(h, conn);
  return { code, result };
}

test('the C++ framer at every byte boundary and byte by byte: the same body and outcome', () => {
  for (const wire of [CHUNKED_200, LENGTH_200]) {
    const bytes = Buffer.from(wire);
    const whole = frame([bytes]);
    assert.deepEqual(whole.codes, [200 * 4 + 1], 'done, 200, keep-alive');
    for (let k = 1; k < bytes.length; k++) assert.deepEqual(frame([bytes.subarray(0, k), bytes.subarray(k)]), whole, `split at ${k}`);
    assert.deepEqual(frame([...bytes].map((b) => Buffer.from([b]))), whole, 'byte by byte');
  }
});

test('framing rules: Connection: close, HTTP/1.0, close-delimited bodies, 204, interim 1xx, Keep-Alive hints, bare LF', () => {
  const run = frameOnce;
  assert.equal(run('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok').code, 200 * 4);
  assert.equal(run('HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok').code, 200 * 4, 'HTTP/1.0 closes by default');
  assert.equal(run('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 2\r\n\r\nok').code, 200 * 4 + 1);
  assert.equal(run('HTTP/1.1 200 OK\r\n\r\npartial').code, 0, 'no length: read to the close');
  assert.equal(run('HTTP/1.1 200 OK\r\n\r\npartial', true).code, 200 * 4, 'the close ends it');
  assert.equal(run('HTTP/1.1 204 No Content\r\n\r\n').code, 204 * 4 + 1);
  const e = run('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nretry-after: 2\r\nX-A: 1\r\nx-a: 2\r\ncontent-length: 4\r\n\r\nbusy');
  assert.equal(e.code, 503 * 4 + 1);
  assert.deepEqual(e.result.slice(0, 4), [503, ['retry-after', '2', 'x-a', '1', 'x-a', '2', 'content-length', '4'], 'busy', '']);
  const hint = run('HTTP/1.1 200 OK\r\nkeep-alive: timeout=3, max=10\r\ncontent-length: 0\r\n\r\n');
  assert.equal(hint.code, 200 * 4 + 2 + 1);
  assert.equal(hint.result[4], 3000);
  assert.equal(run('HTTP/1.1 200 OK\ncontent-length: 2\n\nok').code, 200 * 4 + 1, 'a lone LF ends a line (RFC 9112 2.2)');
  assert.equal(run(`${CHUNKED_200}HTTP/1.1 200`).code, 200 * 4, 'bytes past the message: the socket is not reused');
  assert.equal(run('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nzz', true).code, 200 * 4, 'a final coding other than chunked: to the close');
});

test('malformed responses are typed errors, never a crash', () => {
  const err = (wire: string, eof = false): string => {
    const { code, result } = frameOnce(wire, eof);
    assert.equal(code, -1, `${JSON.stringify(wire.slice(0, 60))}: ${result[3]}`);
    return result[3].split(':')[0]!;
  };
  const cases: Array<[string, string, boolean]> = [
    ['HTTP/2 200 OK\r\n\r\n', 'bad_status_line', false],
    ['garbage\r\n\r\n', 'bad_status_line', false],
    ['HTTP/1.1 2x0 OK\r\n\r\n', 'bad_status_line', false],
    ['HTTP/1.1 200 OK\r\nbad header\r\n\r\n', 'bad_header', false],
    ['HTTP/1.1 200 OK\r\na: 1\r\n folded\r\n\r\n', 'bad_header', false],
    ['HTTP/1.1 200 OK\r\nx: a\x01b\r\n\r\n', 'bad_header', false],
    [`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(17_000)}\r\n\r\n`, 'head_too_large', false],
    [`HTTP/1.1 200 OK\r\n${'x: 1\r\n'.repeat(200)}\r\n`, 'head_too_large', false],
    ['HTTP/1.1 200 OK\r\ncontent-length: 2, 3\r\n\r\n', 'bad_content_length', false],
    ['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', 'bad_content_length', false],
    ['HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\n', 'bad_content_length', false],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n', 'bad_transfer_encoding', false],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 'bad_chunk', false],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n', 'bad_chunk', false],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffff\r\n', 'bad_chunk', false],
    [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;${'e'.repeat(5000)}\r\n`, 'bad_chunk', false],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 'upgrade', false],
    [`${HEAD_200}content-length: 100\r\n\r\nshort`, 'closed_early', true],
    ['', 'closed_early', true],
  ];
  for (const [wire, kind, eof] of cases) assert.equal(err(wire, eof), kind);
  const addon = requireNative();
  const h = new NativeStreamEngine(addon).binding.engine;
  assert.throws(() => addon.httpRead(h, 12345, Buffer.alloc(1), 1, 0), /unknown or closed connection/);
  const conn = addon.httpOpen(h);
  assert.throws(() => addon.httpRead(h, conn, Buffer.alloc(1), 2, 0), /outside the buffer/);
  addon.httpClose(h, conn);
});

test('random damage in random splits: every outcome is a legal code, an error stays an error', () => {
  const addon = requireNative();
  const engine = new NativeStreamEngine(addon);
  const h = engine.binding.engine;
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const seeds = [CHUNKED_200, LENGTH_200, 'HTTP/1.1 500 E\r\ncontent-length: 5\r\n\r\n{"a"}', 'HTTP/1.1 100 C\r\n\r\n' + CHUNKED_200].map((s) => Buffer.from(s));
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(seeds[rand(seeds.length)]!);
    for (let m = 1 + rand(4); m > 0; m--) b[rand(b.length)] = rand(4) === 0 ? rand(256) : '\r\n:;0 f'.charCodeAt(rand(6));
    const conn = addon.httpOpen(h);
    const stream = engine.open(OPTS);
    addon.httpBegin(h, conn, stream);
    let at = 0;
    let last = 0;
    while (at < b.length) {
      const n = 1 + rand(b.length - at);
      const code = addon.httpRead(h, conn, b.subarray(at, at + n), n, at);
      assert.ok(code === 0 || code === -1 || (code >= 400 && Number.isInteger(code)), `code ${code}`);
      if (last === -1) assert.equal(code, -1, 'an error is final');
      last = code;
      at += n;
    }
    if (last === 0) {
      const eof = addon.httpEof(h, conn);
      assert.ok(eof === -1 || eof >= 400, `at the close: ${eof}`);
    }
    addon.httpResult(h, conn);
    engine.finish(stream);
    addon.httpClose(h, conn);
  }
});

test('4xx/5xx with JSON bodies: the same status, headers and text as undici', async () => {
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
      const raw: TurnTransport = new RawHttpPool({ ...engine.binding, streams: engine }, u, '/v1/chat/completions', headers, { connections: 2, keepAliveMs: 4000 });
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
    const raw = client(srv.url);
    const t0 = Date.now();
    const o = await turn(raw, { ...NO_RETRY, max: 1 });
    await raw.close();
    assert.deepEqual([o.status, o.retries, o.error], ['server_error', 1, 'HTTP 503: This model\'s maximum context length is 32 tokens']);
    assert.ok(Date.now() - t0 >= 900, 'waited the Retry-After second');
  });
});

test('a connection closed mid-body, garbage and an oversize head fail the turn as with undici', async () => {
  const cases: Array<[string, (s: net.Socket) => void, RegExp]> = [
    ['closed mid-body', (s) => s.end(`${HEAD_200}transfer-encoding: chunked\r\n\r\n${chunked(EVENTS.slice(0, 2), false).slice(0, -5)}`), /^connection dropped mid-stream: /],
    ['reset before any byte', (s) => s.resetAndDestroy(), /^connection failed: /],
    ['garbage status line', (s) => s.end('SSH-2.0-OpenSSH\r\n\r\n'), /^connection failed: /],
    ['oversize head', (s) => s.end(`${HEAD_200}x-big: ${'a'.repeat(20_000)}\r\n\r\n`), /^connection failed: /],
    ['Content-Length cut short', (s) => s.end(`${HEAD_200}content-length: ${BODY.length}\r\n\r\n${BODY.slice(0, 50)}`), /^connection dropped mid-stream: /],
  ];
  for (const [name, respond, want] of cases) {
    await withServer(respond, async (srv) => {
      const raw = client(srv.url);
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

test('deadlines: before the head a timeout, after it a stalled stream; the socket is not reused', async () => {
  await withServer((s, n) => {
    if (n === 0) return; // never answers
    if (n === 1) s.write(`${HEAD_200}transfer-encoding: chunked\r\n\r\n${chunked(EVENTS.slice(0, 2), false).slice(0, -5)}`);
    else s.write(CHUNKED_200);
  }, async (srv) => {
    const raw = client(srv.url, 'auto', 1);
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

test('a deadline also covers the wait for a socket: queued requests time out, one socket at a time', async () => {
  await withServer(() => undefined, async (srv) => {
    const raw = client(srv.url, 'auto', 1);
    const out = await Promise.all([1, 2, 3].map(() => turn(raw, { ...NO_RETRY, requestTimeoutMs: 100 })));
    assert.deepEqual(out.map((o) => [o.status, o.error]), Array(3).fill(['timeout', 'request timed out after 100 ms']));
    await peakSettled();
    assert.ok(srv.peak <= 1, `one socket at a time (saw ${srv.peak})`);
    await raw.close();
  });
});

test('an idle socket the server closed is not reused; the pool never opens more than its connections', async () => {
  await withServer((s, n) => {
    // The first response ends the connection from the server's side after a moment.
    s.write(CHUNKED_200);
    if (n === 0) setTimeout(() => s.end(), 20);
  }, async (srv) => {
    const raw = client(srv.url, 'auto', 2);
    assert.equal((await turn(raw)).status, 'ok');
    await new Promise((r) => setTimeout(r, 80));
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
    const raw = client(srv.url);
    for (let i = 0; i < 3; i++) assert.equal((await turn(raw)).status, 'ok');
    await raw.close();
    assert.equal(srv.sockets, 3);
  });
});

test('an event loop that lags past the idle time: the late-idle socket is not used (the server closed it on time)', async () => {
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
    const pool = new RawHttpPool({ ...engine.binding, streams: engine }, new URL(`http://127.0.0.1:${port}/v1`), '/v1/chat/completions', ['content-type', 'application/json'], { connections: 1, keepAliveMs: 100 });
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

test('a refused connection and a closed client fail the turn without a crash', async () => {
  const srv = await scripted(() => undefined);
  const url = srv.url;
  await srv.close();
  const raw = client(url);
  const o = await turn(raw);
  assert.equal(o.status, 'server_error');
  assert.match(o.error!, /^connection failed: connect ECONNREFUSED/);
  await raw.close();
  const again = await turn(raw);
  assert.match(again.error!, /client is closed/);
});

test('the simulator: raw and undici routes give identical turns (texts, tool calls, statuses)', async () => {
  const sim = await startSimulator({ seed: 3, latency: false, tokensPerDelta: 1, models: [{ servedModelName: 'm', profile: 'sceneiq-ft-2b' }] });
  const busy = await startSimulator({ seed: 3, latency: false, faults: { statusRates: { 429: 1 } }, models: [{ servedModelName: 'm', profile: 'sceneiq-ft-2b' }] });
  try {
    for (const s of [sim, busy]) {
      const raw = client(s.baseUrl);
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
