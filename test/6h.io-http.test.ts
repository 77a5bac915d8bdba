// The raw route with its sockets read by the addon's I/O thread
// (src/run/io-http.ts, native/src/io/io_loop.cc): the raw route's
// behaviours (test/helpers/raw-http-cases.ts, as test 6g for node:net),
// then what is the thread's own: token times are the reads' times, many
// streams at once, request bodies of megabytes (partial writes), bodies
// delimited by the close, and a process or worker that ends with the
// thread running, idle or stopped. The shared behaviours run twice: with a
// wake's reads in one io_uring_enter (the default), and with a read() each
// (TCE_IO_URING=0, and wherever the kernel refuses io_uring).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createStreamEngine } from '../src/extract/engine';
import type { NativeStreamEngine } from '../src/extract/native-engine';
import { requireNative } from '../src/native/loader';
import { DEFAULT_IO_WINDOW_US, ioBatchReads, ioLoopStats, ioUnavailable, ioWindowUs, setIoBatch, setIoWindow } from '../src/run/io-http';
import { NativeChatClient, rawSocketKind } from '../src/run/turn';
import { FeedBatcher } from '../src/run/feed-batcher';
import { BODY, CHUNKED_200, EVENTS, HEAD_200, OPTS, chunked, client, essence, rawPool, rawRouteTests, sse, turn, withServer } from './helpers/raw-http-cases';

if (process.platform === 'linux') assert.equal(ioUnavailable(requireNative()), null, 'Linux has the I/O thread');

rawRouteTests('io');

describe('with a read() per socket instead of io_uring', () => {
  before(() => setIoBatch(requireNative(), false));
  after(() => setIoBatch(requireNative(), ioBatchReads()));
  rawRouteTests('io');
});

test('tce run\'s default (route auto) on http: with the C++ engine reads its sockets on the I/O thread; TCE_RAW_SOCKETS=net picks node:net', () => {
  assert.equal(rawSocketKind({}), 'io');
  assert.equal(rawSocketKind({ TCE_RAW_SOCKETS: 'net' }), 'net');
  assert.equal(rawSocketKind({ TCE_RAW_SOCKETS: 'bogus' }), 'io');
  const e = createStreamEngine('native');
  const c = new NativeChatClient({ role: 'verifier_8b', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', model: 'm' }, e, new FeedBatcher(e), 2);
  assert.equal(c.route, process.env.TCE_RAW_SOCKETS === 'net' ? 'raw' : 'io');
  return c.close();
});

/** A server in its own process (its pacing does not depend on this busy
 * test process) that answers the first request with `words` content events,
 * each its own chunk, `gapMs` apart; the file `written` holds how many
 * chunks it has written. */
async function pacedServer(words: number, gapMs: number): Promise<{ url: string; written: () => number; chunks: number; text: string; stop: () => void }> {
  const paced = [sse({ role: 'assistant', content: '' }), ...Array.from({ length: words }, (_, i) => sse({ content: `w${i} ` })), 'data: [DONE]\n\n'];
  const wire = paced.map((e, i) => (i === paced.length - 1 ? chunked([e], false) : chunked([e], false).slice(0, -5)));
  const code = `const parts = ${JSON.stringify(wire)}; const head = ${JSON.stringify(`${HEAD_200}transfer-encoding: chunked\r\n\r\n`)};
    require('node:net').createServer((c) => { c.on('error', () => {}); c.once('data', () => {
      c.write(head); let i = 0; const next = () => { c.write(parts[i++]); require('node:fs').writeFileSync(process.argv[1], String(i)); if (i < parts.length) setTimeout(next, ${gapMs}); }; setTimeout(next, ${gapMs}); });
    }).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-6h-'));
  const file = path.join(dir, 'written');
  const server = spawn(process.execPath, ['-e', code, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((r) => server.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  return {
    url: `http://127.0.0.1:${port}/v1`,
    written: () => { try { return Number(fs.readFileSync(file, 'utf8')); } catch { return 0; } },
    chunks: wire.length,
    text: Array.from({ length: words }, (_, i) => `w${i} `).join(''),
    stop: () => { server.kill(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

test('token times are the reads\' own times, taken on the thread: monotone, inside the request, spread as the server paced them even while the main thread is blocked', async () => {
  const srv = await pacedServer(8, 20);
  try {
    const c = client(srv.url, 'io');
    const t0 = performance.now();
    const pending = turn(c);
    // The main thread blocked until the server has written the whole stream
    // (a loaded machine may pace it slower than 20 ms), then a little longer:
    // the reads (and their times) go on in the I/O thread.
    const giveUp = performance.now() + 20_000;
    while (srv.written() < srv.chunks && performance.now() < giveUp) { /* busy */ }
    const until = performance.now() + 30;
    while (performance.now() < until) { /* busy */ }
    const o = await pending;
    const t1 = performance.now();
    await c.close();
    assert.equal(o.status, 'ok', o.error ?? '');
    assert.equal(o.result!.text, srv.text);
    const times = [...o.result!.chunkTimesMs];
    assert.equal(times.length, 8, 'one time per content event');
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `monotone: ${times.join(', ')}`);
    assert.ok(times[0]! > t0 && times[7]! < t1, `within the request: ${t0} < ${times[0]} .. ${times[7]} < ${t1}`);
    // Read times, not delivery times: delivered after the block, they would be one time.
    assert.ok(new Set(times).size >= 3, `distinct read times: ${times.join(', ')}`);
    assert.ok(times[7]! - times[0]! >= 40, `spread as paced (~140 ms): ${times[7]! - times[0]!} ms`);
    assert.ok(times[0]! < until, `the first token read while the main thread was blocked: ${times[0]} < ${until}`);
  } finally {
    srv.stop();
  }
});

test('the poll window: the events that arrive while the thread sleeps are read in one wake; with no window, one read each', async () => {
  const addon = requireNative();
  const reads = async (windowUs: number): Promise<{ reads: number; wakes: number; times: number[]; ms: number }> => {
    // 40 events 5 ms apart; a 20 ms window takes ~4 at a time.
    const srv = await pacedServer(40, 5);
    setIoWindow(addon, windowUs);
    try {
      const c = client(srv.url, 'io');
      const before = ioLoopStats(addon)!;
      const t0 = performance.now();
      const o = await turn(c);
      const ms = performance.now() - t0;
      const after = ioLoopStats(addon)!;
      await c.close();
      assert.equal(after.windowUs, windowUs);
      assert.equal(o.status, 'ok', o.error ?? '');
      assert.equal(o.result!.text, srv.text, 'every event, in order');
      return { reads: after.reads - before.reads, wakes: after.wakes - before.wakes, times: [...o.result!.chunkTimesMs], ms };
    } finally {
      setIoWindow(addon, ioWindowUs());
      srv.stop();
    }
  };
  const none = await reads(0);
  const wide = await reads(20_000);
  // The head, the role event, 40 words, [DONE] and the last chunk: ~43 writes
  // in ~200 ms (longer on a loaded machine). The thread sleeps 20 ms after
  // each wake, so it wakes, and reads this one socket, at most once per 20 ms
  // of the turn (~12 times), where without a window it reads about every write.
  const most = Math.floor(wide.ms / 20) + 2;
  assert.ok(wide.wakes <= most && wide.reads <= most, `a 20 ms window over ${Math.round(wide.ms)} ms: at most ${most} wakes and reads, saw ${wide.wakes} and ${wide.reads}`);
  assert.ok(none.reads > wide.reads, `no window: about a read per write (${none.reads}), more than the window's (${wide.reads})`);
  // A read's events share its time: no more distinct times than reads. And
  // they are still the reads' times, spread over the ~200 ms stream, not one
  // time for the whole body.
  const distinct = new Set(wide.times).size;
  assert.ok(distinct <= wide.reads, `${distinct} distinct times, ${wide.reads} reads`);
  assert.ok(distinct >= 5 && wide.times.at(-1)! - wide.times[0]! >= 100, `read times spread over the stream: ${distinct} distinct, ${Math.round(wide.times.at(-1)! - wide.times[0]!)} ms apart`);
  assert.throws(() => setIoWindow(addon, 1.5), /whole microseconds/);
  assert.equal(ioWindowUs({}), DEFAULT_IO_WINDOW_US);
  assert.equal(ioWindowUs({ TCE_IO_WINDOW_US: '0' }), 0);
  assert.throws(() => ioWindowUs({ TCE_IO_WINDOW_US: '2ms' }), /TCE_IO_WINDOW_US: expected whole microseconds from 0 to 1000000, got "2ms"/);
  assert.throws(() => ioWindowUs({ TCE_IO_WINDOW_US: '1000001' }), /TCE_IO_WINDOW_US/);
});

/** Whether this process may set up an io_uring, asked of the kernel apart
 * from the addon (io_uring_setup, python3): kernel.io_uring_disabled and a
 * seccomp profile refuse it alike to every process of this one's kind. From
 * Linux 6.0 (io_uring/net.c) a recv with MSG_DONTWAIT never waits, so the
 * addon's own probe (batch_recv.cc) must pass there; before, it may refuse. */
function kernelAllowsIoUring(): 'yes' | 'maybe' | 'no' {
  const probe = 'import ctypes, sys\nlibc = ctypes.CDLL(None, use_errno=True)\nparams = (ctypes.c_char * 120)()\nsys.exit(0 if libc.syscall(425, 8, params) >= 0 else 1)';
  if (spawnSync('python3', ['-c', probe]).status !== 0) return 'no';
  const [major = 0] = os.release().split('.').map(Number);
  return major >= 6 ? 'yes' : 'maybe';
}

test('many streams at once: 300 turns over 32 sockets, each as undici reads it; a wake\'s reads in one io_uring_enter or a read() each, the same turns', async () => {
  const addon = requireNative();
  const ring = kernelAllowsIoUring();
  const parts = EVENTS.map((e) => chunked([e], false).slice(0, -5));
  for (const batch of [true, false]) {
    setIoBatch(addon, batch);
    try {
      await withServer((s) => {
        // Paced: one event per loop turn, interleaved across sockets.
        s.write(`${HEAD_200}transfer-encoding: chunked\r\n\r\n`);
        let i = 0;
        const next = (): void => {
          if (i < parts.length) s.write(parts[i++]!);
          else return void s.write('0\r\n\r\n');
          setImmediate(next);
        };
        setImmediate(next);
      }, async (srv) => {
        const io = client(srv.url, 'io', 32);
        const und = client(srv.url, 'undici');
        const want = essence(await turn(und));
        await und.close();
        const s0 = ioLoopStats(addon)!;
        const out = await Promise.all(Array.from({ length: 300 }, () => turn(io)));
        const s1 = ioLoopStats(addon)!;
        await io.close();
        for (const o of out) assert.deepEqual(essence(o), want);
        assert.ok(srv.sockets <= 33, `at most 32 io sockets (+1 undici), saw ${srv.sockets}`);
        const reads = s1.reads - s0.reads;
        const batched = s1.batchedReads - s0.batchedReads;
        const wakes = s1.wakes - s0.wakes;
        if (!batch) {
          assert.equal(s1.batch, 'off');
          assert.equal(batched, 0, 'no read through the ring');
        } else if (ring === 'yes' || (ring === 'maybe' && s1.batch === 'io_uring')) {
          assert.equal(s1.batch, 'io_uring');
          assert.equal(batched, reads, 'every read through the ring');
          assert.ok(batched > wakes, `several sockets' reads in one call: ${batched} reads in ${wakes} wakes`);
        } else {
          assert.match(s1.batch, ring === 'no' ? /^io_uring_setup: / : /^io_uring: /, 'why there is no ring');
          assert.equal(batched, 0);
        }
      });
    } finally {
      setIoBatch(addon, ioBatchReads());
    }
  }
  assert.equal(ioBatchReads({}), true);
  assert.equal(ioBatchReads({ TCE_IO_URING: '0' }), false);
  assert.throws(() => ioBatchReads({ TCE_IO_URING: 'no' }), /TCE_IO_URING: expected 0 or 1, got "no"/);
});

test('a request body of megabytes goes out whole (partial writes), and a body delimited by the close', async () => {
  const big = crypto.randomBytes(6 * 1024 * 1024);
  const got: Buffer[] = [];
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('error', () => undefined);
    // Reads slowly at first, so the client's socket buffer fills.
    s.pause();
    setTimeout(() => s.resume(), 100);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.subarray(0, end).toString())![1]);
      if (buf.length < end + 4 + len) return;
      got.push(buf.subarray(end + 4, end + 4 + len));
      buf = buf.subarray(end + 4 + len);
      s.end(`${HEAD_200}\r\n${BODY}`); // no length: the close ends it
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const engine = createStreamEngine('native') as NativeStreamEngine;
    const pool = rawPool('io', engine, new URL(`http://127.0.0.1:${port}/v1`), '/v1/chat/completions', ['content-type', 'application/json'], { connections: 2, keepAliveMs: 4000 });
    for (let i = 0; i < 2; i++) {
      const r = await pool.send({ path: '/v1/chat/completions', headers: [], body: big, timeoutMs: 10_000 }, OPTS);
      assert.equal(r.status, 200);
      const res = engine.finish(r.handle);
      assert.equal(res.sawDone, true);
      assert.equal(res.toolCalls.length, 1);
    }
    await pool.close();
    assert.equal(got.length, 2);
    for (const g of got) assert.ok(g.equals(big), 'the body arrived byte for byte');
  } finally {
    server.close();
  }
});

/** `io(url)`: a client on the I/O thread's route; `turn(c, deadlineMs?)`. */
const PRELUDE = `const path = require('path'); const dist = ${JSON.stringify(path.join(__dirname, '..'))};
    const { createStreamEngine } = require(path.join(dist, 'src/extract/engine'));
    const { FeedBatcher } = require(path.join(dist, 'src/run/feed-batcher'));
    const { NativeChatClient } = require(path.join(dist, 'src/run/turn'));
    const io = (url) => { const e = createStreamEngine('native'); const c = new NativeChatClient({ role: 'verifier_8b', baseUrl: url, apiKey: 'k', model: 'm' }, e, new FeedBatcher(e), 2, 'io'); if (c.route !== 'io') throw new Error('not io'); return c; };
    const turn = (c, ms = 60000) => c.turn([{ role: 'user', content: 'x' }], { tools: [], toolNames: [], parseMode: 'client', maxTokens: 8, temperature: 0, seed: 1 }, { knownTools: [], answerKind: 'verify' }, { max: 0, baseDelayMs: 0, maxDelayMs: 0, requestTimeoutMs: ms });
  `;

/** Runs PRELUDE + `code` in a fresh node (asynchronously: the test's server is in this process). */
async function child(code: string, timeoutMs = 20_000): Promise<{ status: number | null; signal: string | null; out: string; ms: number }> {
  const t0 = Date.now();
  const p = spawn(process.execPath, ['-e', PRELUDE + code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const [status, signal] = await new Promise<[number | null, string | null]>((r) => p.once('close', (c, s) => r([c, s])));
  clearTimeout(timer);
  return { status, signal, out, ms: Date.now() - t0 };
}

test('process exit with the thread running, idle, stopped, or in a worker: no crash, no hang', async () => {
  // The server is in this process: the children's turns wait on it.
  await withServer((s, n) => { if (n % 2 === 0) s.write(CHUNKED_200); /* odd requests never answered */ }, async (srv) => {
    const url = JSON.stringify(srv.url);
    // Turns one after another, the client left open: each completion holds
    // the process until delivered (even one that completes on the thread
    // before ioSend returns), the idle socket does not keep it up.
    const idle = await withServer((s) => s.write(CHUNKED_200), (always) => child(`const c = io(${JSON.stringify(always.url)});
      (async () => { let ok = 0; for (let i = 0; i < 40; i++) ok += (await turn(c)).status === 'ok' ? 1 : 0; console.log('turns ok', ok); })();`));
    assert.deepEqual([idle.status, idle.signal], [0, null], idle.out);
    assert.match(idle.out, /turns ok 40/);
    assert.ok(idle.ms < 10_000, `exited on its own (${idle.ms} ms)`);
    // process.exit() while a request is in flight on the thread.
    const busy = await child(`const c = io(${url}); turn(c).then(() => turn(c)); setTimeout(() => { console.log('exiting'); process.exit(0); }, 300);`);
    assert.deepEqual([busy.status, busy.signal], [0, null], busy.out);
    assert.match(busy.out, /exiting/);
    // A request in flight keeps the process up until its deadline ends it.
    const waits = await child(`const c = io(${url}); turn(c).then(() => turn(c, 400)).then((o) => console.log('second', o.status));`);
    assert.deepEqual([waits.status, waits.signal], [0, null], waits.out);
    assert.match(waits.out, /second timeout/);
    // A worker whose environment ends with a request in flight, then the process goes on.
    const workerCode = `${PRELUDE}
      const c = io(${url});
      turn(c).then((o) => { require('worker_threads').parentPort.postMessage(c.route + ' ' + o.status); turn(c); });`;
    const worker = await child(`const { Worker } = require('worker_threads');
      const w = new Worker(${JSON.stringify(workerCode)}, { eval: true });
      w.once('message', (m) => { console.log('worker', m); setTimeout(() => w.terminate().then((code) => console.log('terminated', code)), 100); });`);
    assert.deepEqual([worker.status, worker.signal], [0, null], worker.out);
    assert.match(worker.out, /worker io ok[\s\S]*terminated 1/);
  });
});

test('a loop whose epoll fd is gone: the request in flight and every later one fail with the reason, none waits for its deadline', async () => {
  // epoll_wait fails only when its fd is broken; closing it from outside is
  // the one way to make that happen. In a child: the fd number is freed.
  // The server writes a little every 300 ms (a head that never ends): whenever
  // the fd is closed, the next write wakes the thread into the failing epoll_wait.
  const drip = (s: net.Socket): void => {
    let first = true;
    const t = setInterval(() => { if (!s.destroyed) s.write(first ? HEAD_200 : 'x-pad: 1\r\n'); first = false; }, 300);
    s.once('close', () => clearInterval(t));
  };
  await withServer(drip, async (srv) => {
    const r = await child(`const fs = require('fs');
      const polls = () => fs.readdirSync('/proc/self/fd').filter((f) => { try { return fs.readlinkSync('/proc/self/fd/' + f) === 'anon_inode:[eventpoll]'; } catch { return false; } });
      const before = new Set(polls());
      const c = io(${JSON.stringify(srv.url)});
      const t0 = Date.now();
      const first = turn(c, 15000);
      setTimeout(() => {
        const mine = polls().filter((f) => !before.has(f));
        console.log('new epoll fds', mine.length);
        fs.closeSync(Number(mine[0]));
      }, 300);
      first.then(async (a) => {
        console.log('first', a.status, a.error, Date.now() - t0 < 10000);
        const t1 = Date.now();
        const b = await turn(c, 15000);
        console.log('second', b.status, b.error, Date.now() - t1 < 5000);
        process.exit(0);
      });`, 30_000);
    assert.deepEqual([r.status, r.signal], [0, null], r.out);
    assert.match(r.out, /new epoll fds 1\n/);
    assert.match(r.out, /first server_error .*epoll_wait EBADF.* true/);
    assert.match(r.out, /second server_error .*epoll_wait EBADF.* true/);
  });
});

test('a stopped loop: calls on it throw, requests in flight are dropped, nothing crashes', async () => {
  const addon = requireNative();
  const events: number[] = [];
  const loop = addon.ioLoop((ev) => events.push(...ev), performance.now(), 0);
  assert.notEqual(typeof loop, 'string');
  if (typeof loop === 'string') return;
  let served: net.Socket | null = null;
  await withServer((s) => { served = s; }, async (srv) => {
    const u = new URL(srv.url);
    const conn = addon.ioOpen(loop);
    addon.ioConnect(loop, conn, [u.hostname], Number(u.port), 0);
    addon.ioSend(loop, conn, 0, 'POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n', Buffer.from('{}'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(addon.ioStatus(loop, conn), 0, 'no head yet');
    addon.ioStop(loop);
    assert.throws(() => addon.ioOpen(loop), /stopped/);
    assert.throws(() => addon.ioSend(loop, conn, 0, 'x', Buffer.alloc(0)), /stopped/);
    assert.deepEqual(events, [], 'nothing was completed');
    // The request in flight is dropped: the stopped loop closed its socket.
    const s = served as net.Socket | null;
    assert.ok(s, 'the request reached the server');
    const ended = await new Promise<boolean>((r) => {
      if (s.readableEnded || s.destroyed) return r(true);
      const t = setTimeout(() => r(false), 2000);
      s.once('end', () => { clearTimeout(t); r(true); });
      s.once('close', () => { clearTimeout(t); r(true); });
    });
    assert.ok(ended, 'the server saw the stopped loop close the connection');
  });
  assert.throws(() => addon.ioTake(loop, (createStreamEngine('native') as NativeStreamEngine).binding.engine, 1), /I\/O loop is stopped/);
  assert.throws(() => addon.ioOpen({} as never), /I\/O loop/);
});
