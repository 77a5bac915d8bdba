// The native engine's route for plain http: endpoints: keep-alive sockets of
// our own (node:net), each read landing in one shared buffer (the `onread`
// option: no Buffer, no 'data' event, no stream machinery per read) and
// handed to the addon, which frames the HTTP/1.1 response (status line,
// headers, Content-Length / chunked / close-delimited body) and feeds a
// 200's body straight into the engine stream, in C++. Per body chunk the JS
// cost is one callback and one addon call. undici stays the route for
// https: and for the TypeScript twin (engine-dispatch.ts). On Linux the
// default socket kind is the addon's I/O thread (io-http.ts), which plugs
// its connections into the same pool; node:net is TCE_RAW_SOCKETS=net.
//
// Failures keep dispatchTurn's meaning (DispatchFailure: `started` once a
// 200's head arrived, `timedOut` when the deadline cut it), so turn.ts
// retries them exactly as before. A request is never re-sent by this
// module: once its bytes went out nothing proves the server did not act on
// them, so a failure goes to the turn's retry policy as it did with undici.
// What the pool can do is not pick a dead socket: one the server closed
// while idle is dropped when its end arrives, and checked again when taken.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { NativeAddon, NativeEngineHandle, NativeHttpResult } from '../native/native-api';
import type { StreamEngine, StreamEngineOptions } from '../extract/types';
import { DispatchFailure, type DispatchedTurn, type TurnRequest, type TurnTransport } from './engine-dispatch';
import { socketErrorText } from './addresses';

/** Reads land here; every callback consumes its bytes before returning, so
 * all sockets of the process can share it. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export interface RawRoute {
  addon: NativeAddon;
  engine: NativeEngineHandle;
  /** The same engine as StreamEngine: opens the stream a 200 body feeds. */
  streams: StreamEngine;
}

export interface RawPoolOptions {
  /** Most sockets open at once (undici's Pool `connections`). */
  connections: number;
  /** Idle sockets are closed after this (below the server's own idle close). */
  keepAliveMs: number;
}

/** Header names and values that can go on the wire as they are (no CR, LF,
 * NUL or other control bytes): otherwise the client stays on undici, which
 * rejects them as before. */
export function rawHeadersOk(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(headers[i]!)) return false;
    if (/[\0-\x08\x0a-\x1f\x7f]/.test(headers[i + 1] ?? '')) return false;
  }
  return true;
}

export class Exchange {
  conn: PooledConnection | null = null;
  settled = false;
  timedOut = false;
  stream = -1;
  timer: NodeJS.Timeout | null = null;
  /** performance.now() at which its deadline passes. */
  readonly deadline: number;
  constructor(
    readonly req: TurnRequest,
    readonly engineOpts: StreamEngineOptions,
    readonly resolve: (t: DispatchedTurn) => void,
    readonly reject: (e: DispatchFailure) => void,
  ) {
    this.deadline = performance.now() + req.timeoutMs;
  }
}

/** A pooled keep-alive connection: the pool's side of it (idle time,
 * outcomes, failures). Subclasses own the socket: node:net here, the addon's
 * I/O thread in io-http.ts. */
export abstract class PooledConnection {
  ex: Exchange | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private gone = false;
  private idleUntil = Infinity;

  constructor(protected readonly pool: RawHttpPool) {}

  /** Still fit to carry a request: not closed, not half-closed by the
   * server, and not idle past its time. That last check matters under load:
   * the idle timer fires late when the event loop lags, while the server
   * (another thread or process) closes on time, and its FIN may not have
   * been read yet. */
  usable(): boolean {
    return !this.gone && this.socketOpen() && performance.now() < this.idleUntil;
  }

  send(ex: Exchange, head: string): void {
    this.clearIdle();
    this.ex = ex;
    ex.conn = this;
    this.write(ex, head);
  }

  idle(ms: number): void {
    this.idleUntil = performance.now() + ms;
    this.quiet();
    this.idleTimer = setTimeout(() => this.destroy(), ms);
    this.idleTimer.unref();
  }

  destroy(): void {
    this.clearIdle();
    // Closed before the pool may open another for a waiting request, so the
    // server never sees more sockets than `connections` (its FIN goes first).
    this.shut();
    if (!this.gone) {
      this.gone = true;
      this.pool.forget(this);
    }
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Acts on a response outcome (httpRead's codes, native-api.ts). */
  protected outcome(code: number): void {
    if (code === 0) return;
    const ex = this.ex!;
    if (code < 0) {
      const [status, , , error] = this.result();
      // closed_early: a cut, not a malformed response (turn.ts words it by
      // `started`); socket: node:net's words for a socket error (io-http.ts).
      const cut = /^(closed_early|socket): /.exec(error);
      this.fail(cut ? error.slice(cut[0].length) : `malformed HTTP response (${error})`, status);
      return;
    }
    const status = code >> 2;
    this.ex = null;
    if (status === 200) this.pool.settle(ex, { status, headers: {}, errorText: '', handle: ex.stream });
    else {
      const [, flat, body] = this.result();
      this.pool.settle(ex, { status, headers: headerRecord(flat), errorText: body, handle: -1 });
    }
    if (code & 1) this.pool.release(this, code & 2 ? this.result()[4] : -1);
    else this.destroy();
  }

  /** Fails the exchange in flight, if any, and drops the connection. */
  fail(message: string, status?: number): void {
    const ex = this.ex;
    if (!ex) return;
    this.ex = null;
    const started = (status ?? this.statusSeen()) === 200;
    this.pool.settle(ex, new DispatchFailure(message, started, false));
    this.destroy();
  }

  /** The socket is neither closed nor half-closed. */
  protected abstract socketOpen(): boolean;
  /** Writes the request; its response goes to outcome(). */
  protected abstract write(ex: Exchange, head: string): void;
  /** Idle: the socket stops keeping the process alive. */
  protected abstract quiet(): void;
  /** Closes the socket (idempotent). */
  protected abstract shut(): void;
  protected abstract result(): NativeHttpResult;
  /** The status of the response in flight once its head is complete, else 0. */
  protected abstract statusSeen(): number;
}

/** One node:net keep-alive socket and its C++ response framer. */
class RawConnection extends PooledConnection {
  readonly socket: net.Socket;
  private readonly framer: number;
  private freed = false;

  constructor(pool: RawHttpPool, private readonly route: RawRoute, host: string, port: number) {
    super(pool);
    this.framer = route.addon.httpOpen(route.engine);
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 60_000,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => this.onRead(n, buf) },
    });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', (e) => this.fail(socketErrorText(e)));
    this.socket.on('close', () => this.onClose());
  }

  protected socketOpen(): boolean {
    return !this.socket.destroyed && !this.socket.readableEnded && this.socket.writable;
  }

  protected write(ex: Exchange, head: string): void {
    this.route.addon.httpBegin(this.route.engine, this.framer, ex.stream);
    this.socket.ref();
    this.socket.cork();
    this.socket.write(head, 'latin1');
    this.socket.write(ex.req.body);
    this.socket.uncork();
  }

  protected quiet(): void {
    this.socket.unref();
  }

  protected shut(): void {
    this.socket.destroy();
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    if (!this.ex) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.destroy();
      return true;
    }
    let code: number;
    try {
      code = this.route.addon.httpRead(this.route.engine, this.framer, buf, n, performance.now());
    } catch (e) {
      // Only a broken invariant throws here (the framer rejects bad bytes
      // with an outcome): fail this request, not the process.
      this.fail(`HTTP framing failed: ${(e as Error).message}`);
      return true;
    }
    this.outcome(code);
    return true;
  }

  private onEnd(): void {
    if (this.ex) this.outcome(this.route.addon.httpEof(this.route.engine, this.framer));
    this.destroy();
  }

  private onClose(): void {
    this.fail('other side closed');
    this.destroy();
    this.freed = true;
    this.route.addon.httpClose(this.route.engine, this.framer);
  }

  protected result(): NativeHttpResult {
    return this.route.addon.httpResult(this.route.engine, this.framer);
  }

  protected statusSeen(): number {
    return this.freed ? 0 : this.result()[0];
  }
}

/** Opens a pooled connection to host:port (the pool's socket kind). */
export type Connector = (pool: RawHttpPool, host: string, port: number) => PooledConnection;

/** undici's header record: lowercased names, a repeated name as an array. */
function headerRecord(flat: readonly string[]): DispatchedTurn['headers'] {
  const out: DispatchedTurn['headers'] = Object.create(null) as DispatchedTurn['headers'];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!, v = flat[i + 1]!;
    const have = out[k];
    out[k] = have === undefined ? v : Array.isArray(have) ? [...have, v] : [have, v];
  }
  return out;
}

/** A small per-endpoint pool of raw keep-alive connections. */
export class RawHttpPool implements TurnTransport {
  /** 'raw': node:net sockets; 'io': the addon's I/O thread (io-http.ts). */
  readonly route: 'raw' | 'io';
  private readonly idleConns: PooledConnection[] = [];
  private readonly queue: Exchange[] = [];
  private open = 0;
  private busy = 0;
  private closed = false;
  private drained: (() => void) | null = null;
  private readonly host: string;
  private readonly port: number;
  private readonly headPrefix: string;

  private readonly connect: Connector;

  /** `connect`: the I/O thread's connector (io-http.ts); without it, node:net. */
  constructor(private readonly raw: RawRoute, origin: URL, path: string, headers: readonly string[], private readonly opts: RawPoolOptions, connect?: Connector) {
    this.route = connect ? 'io' : 'raw';
    this.connect = connect ?? ((pool, host, port) => new RawConnection(pool, raw, host, port));
    this.host = origin.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(origin.port || 80);
    let head = `POST ${path} HTTP/1.1\r\nhost: ${origin.host}\r\nconnection: keep-alive\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    this.headPrefix = head;
  }

  /** Sends one request; a 200 body streams into the engine as it arrives. */
  send(req: TurnRequest, engineOpts: StreamEngineOptions): Promise<DispatchedTurn> {
    return new Promise<DispatchedTurn>((resolve, reject) => {
      const ex = new Exchange(req, engineOpts, resolve, reject);
      this.busy++;
      if (this.closed) {
        this.settle(ex, new DispatchFailure('the client is closed', false, false));
        return;
      }
      ex.timer = setTimeout(() => this.expire(ex), req.timeoutMs);
      // As AbortSignal.timeout: the open socket, not the deadline, keeps the process up.
      ex.timer.unref();
      const conn = this.take();
      if (conn) this.start(conn, ex);
      else this.queue.push(ex);
    });
  }

  private take(): PooledConnection | null {
    while (this.idleConns.length > 0) {
      const c = this.idleConns.pop()!;
      if (c.usable()) return c;
      c.destroy();
    }
    if (this.open >= this.opts.connections) return null;
    this.open++;
    return this.connect(this, this.host, this.port);
  }

  private start(conn: PooledConnection, ex: Exchange): void {
    ex.stream = this.raw.streams.open(ex.engineOpts);
    conn.send(ex, `${this.headPrefix}content-length: ${ex.req.body.length}\r\n\r\n`);
  }

  /** Ends an exchange once: resolves it or rejects it (then its engine stream is discarded). */
  settle(ex: Exchange, outcome: DispatchedTurn | DispatchFailure): void {
    if (ex.settled) return;
    ex.settled = true;
    if (ex.timer) clearTimeout(ex.timer);
    this.busy--;
    if (outcome instanceof DispatchFailure) {
      if (ex.stream >= 0) this.raw.streams.close(ex.stream);
      ex.reject(ex.timedOut ? new DispatchFailure(outcome.message, outcome.started, true) : outcome);
    } else {
      if (outcome.handle < 0 && ex.stream >= 0) this.raw.streams.close(ex.stream);
      ex.resolve(outcome);
    }
    if (this.busy === 0 && this.drained) this.drained();
  }

  private expire(ex: Exchange): void {
    ex.timedOut = true;
    const message = `deadline of ${ex.req.timeoutMs} ms`;
    if (ex.conn) ex.conn.fail(message);
    else {
      const i = this.queue.indexOf(ex);
      if (i >= 0) this.queue.splice(i, 1);
      this.settle(ex, new DispatchFailure(message, false, true));
    }
  }

  /** The next queued request still worth a socket. One whose deadline has
   * passed, or passes within the timers' 1 ms granularity, times out now: its
   * timer may simply not have run yet in this turn of the event loop (several
   * requests queued together expire together), and a connection opened for it
   * would be closed at once. */
  private nextQueued(): Exchange | undefined {
    for (let ex = this.queue.shift(); ex; ex = this.queue.shift()) {
      if (performance.now() < ex.deadline - 1) return ex;
      this.expire(ex);
    }
    return undefined;
  }

  /** A connection whose response ended cleanly: the next queued request, or idle. */
  release(conn: PooledConnection, hintMs: number): void {
    const next = this.nextQueued();
    if (next) {
      this.start(conn, next);
      return;
    }
    if (this.closed) {
      conn.destroy();
      return;
    }
    // A server's Keep-Alive hint is its idle close: leave a second's margin, as undici does.
    const ms = hintMs > 0 ? Math.min(this.opts.keepAliveMs, hintMs - 1000) : this.opts.keepAliveMs;
    if (ms <= 0) {
      conn.destroy();
      return;
    }
    conn.idle(ms);
    this.idleConns.push(conn);
  }

  /** A connection is gone: take it out of the counts, open another for a waiting request. */
  forget(conn: PooledConnection): void {
    this.open--;
    const i = this.idleConns.indexOf(conn);
    if (i >= 0) this.idleConns.splice(i, 1);
    if (this.queue.length > 0 && !this.closed) {
      const next = this.nextQueued();
      if (!next) return;
      const c = this.take();
      if (c) this.start(c, next);
      else this.queue.unshift(next);
    }
  }

  /** Lets requests in flight finish (as undici's close), then closes every socket. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.busy > 0) await new Promise<void>((r) => { this.drained = r; });
    for (const c of [...this.idleConns]) c.destroy();
  }
}
