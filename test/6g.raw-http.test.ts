// The native engine's raw-socket route over node:net (src/run/raw-http.ts,
// framing in native/src/core/http_response.cc): the framer itself at every
// byte boundary and under random damage, and the route's behaviours
// (test/helpers/raw-http-cases.ts, shared with the I/O thread's test 6h).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { NativeStreamEngine } from '../src/extract/native-engine';
import { DispatchFailure } from '../src/run/engine-dispatch';
import { PooledConnection, RawHttpPool } from '../src/run/raw-http';
import { requireNative } from '../src/native/loader';
import type { NativeHttpResult } from '../src/native/native-api';
import { CHUNKED_200, HEAD_200, LENGTH_200, NO_RETRY, OPTS, client, rawRouteTests, turn, withServer } from './helpers/raw-http-cases';

rawRouteTests('net');

// The shared case "queued requests time out, one socket at a time" counts
// sockets at the server, after the fact; this one checks the order itself.
test('[net] a socket cut by a deadline is closed before the pool connects again for a waiting request', async (t) => {
  const made: net.Socket[] = [];
  const openAtConnect: number[] = [];
  const real = net.connect;
  t.mock.method(net, 'connect', function (this: unknown, ...args: Parameters<typeof net.connect>) {
    openAtConnect.push(made.filter((s) => !s.destroyed).length);
    const s = real.apply(this, args);
    made.push(s);
    return s;
  });
  await withServer((s, n) => { if (n > 0) s.write(CHUNKED_200); }, async (srv) => {
    const raw = client(srv.url, 'net', 1);
    const [a, b] = await Promise.all([turn(raw, { ...NO_RETRY, requestTimeoutMs: 100 }), turn(raw)]);
    await raw.close();
    assert.equal(a.status, 'timeout');
    assert.equal(b.status, 'ok', b.error ?? '');
    assert.deepEqual(openAtConnect, [0, 0], 'each connect found no other socket of the pool open');
  });
});

/** A connection that never answers, for the pool's own bookkeeping. */
class SilentConnection extends PooledConnection {
  protected socketOpen(): boolean { return true; }
  protected write(): void { /* never answers */ }
  protected quiet(): void { /* nothing to unref */ }
  protected shut(): void { /* no socket */ }
  protected result(): NativeHttpResult { throw new Error('no response'); }
  protected statusSeen(): number { return 0; }
}

// Requests queued together expire together, but their timers run one by
// one: when the first one's frees the connection, the others' deadlines
// have passed and their timers have not run yet. Made deterministic here by
// keeping the event loop busy past the queued request's deadline.
test('a queued request whose deadline passed before a connection freed up times out instead of getting a socket', async () => {
  const engine = new NativeStreamEngine(requireNative());
  const made: SilentConnection[] = [];
  const pool = new RawHttpPool({ ...engine.binding, streams: engine }, new URL('http://127.0.0.1:9/v1'), '/v1/chat/completions', [], { connections: 1, keepAliveMs: 1000 }, (p) => {
    const c = new SilentConnection(p);
    made.push(c);
    return c;
  });
  const req = (timeoutMs: number) => ({ path: '/v1/chat/completions', headers: [], body: Buffer.from('{}'), timeoutMs });
  const first = pool.send(req(5000), OPTS).catch((e: unknown) => e);
  const queued = pool.send(req(20), OPTS).catch((e: unknown) => e);
  for (const t0 = performance.now(); performance.now() - t0 < 40; ) { /* busy: no timer runs */ }
  made[0]!.fail('connection dropped');
  assert.equal(made.length, 1, 'no connection opened for a request already past its deadline');
  const e = await queued;
  assert.ok(e instanceof DispatchFailure && e.timedOut, String(e));
  assert.match((e as Error).message, /deadline of 20 ms/);
  assert.ok((await first) instanceof DispatchFailure);
  await pool.close();
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
