// The raw route with its sockets read by the addon's I/O thread (Linux;
// native/src/io/io_loop.h): the thread connects, reads and frames each
// response with the same C++ framer as the node:net route and keeps a 200's
// body chunks with their read times; completions come back in batches (one
// callback for every response completed since the last), and one addon call
// feeds a whole body into its engine stream, each chunk with the time it
// was read. Per SSE event no JavaScript runs and node's read path (libuv
// callback, stream machinery) is gone: what is left is the kernel's read,
// and an epoll wake per burst of events rather than per event (the poll
// window, native/src/io/io_loop.h). The pool's rules (keep-alive, idle
// close, deadlines, failures) are raw-http.ts's, shared by both routes.
//
// tce run's default on http: (TCE_RAW_SOCKETS=net opts out). Where the
// thread is unavailable (not Linux, no thread) ioConnector returns null and
// the client keeps the node:net route.
import dns from 'node:dns';
import net from 'node:net';
import type { IoLoopStats, NativeAddon, NativeHttpResult, NativeIoLoop } from '../native/native-api';
import { attemptOrder, attemptTimeoutMs } from './addresses';
import { type Connector, type Exchange, PooledConnection, type RawHttpPool, type RawRoute } from './raw-http';

const EVENT_DONE = 1;
const EVENT_FAILED = 2;

/** One loop (one thread) per addon instance, shared by every pool of the
 * process (or worker): created on first use, stopped at exit by the addon. */
interface SharedLoop {
  loop: NativeIoLoop;
  conns: Map<number, IoConnection>;
}
const loops = new WeakMap<NativeAddon, SharedLoop | string>();

/** The poll window when TCE_IO_WINDOW_US sets none: a tenth or less of a
 * GPU decode step, so a step's burst of events is read in one wake and a
 * token's time is late by at most that (docs/performance.md, stop 25). */
export const DEFAULT_IO_WINDOW_US = 200;

/** The I/O thread's poll window, µs (native/src/io/io_loop.h): TCE_IO_WINDOW_US, else the default. */
export function ioWindowUs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TCE_IO_WINDOW_US;
  if (v === undefined || v === '') return DEFAULT_IO_WINDOW_US;
  if (!/^\d{1,7}$/.test(v) || Number(v) > 1_000_000) throw new Error(`TCE_IO_WINDOW_US: expected whole microseconds from 0 to 1000000, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Whether the I/O thread reads a wake's sockets in one io_uring_enter
 * (native/src/io/batch_recv.h): TCE_IO_URING=0 turns it off, 1 or unset
 * leaves it on (it falls back to read() by itself where io_uring is refused). */
export function ioBatchReads(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.TCE_IO_URING;
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new Error(`TCE_IO_URING: expected 0 or 1, got ${JSON.stringify(v)}`);
}

function sharedLoop(addon: NativeAddon): SharedLoop | string {
  let s = loops.get(addon);
  if (s !== undefined) return s;
  const conns = new Map<number, IoConnection>();
  const loop = typeof addon.ioLoop === 'function' ? addon.ioLoop((ev) => dispatch(conns, ev), performance.now(), ioWindowUs(), ioBatchReads()) : 'the addon has no I/O thread (an older build)';
  s = typeof loop === 'string' ? loop : { loop, conns };
  loops.set(addon, s);
  return s;
}

/** A batch of completions: [conn, kind, code] triples. */
function dispatch(conns: Map<number, IoConnection>, ev: Float64Array): void {
  for (let i = 0; i + 2 < ev.length; i += 3) {
    const c = conns.get(ev[i]!);
    if (!c) continue; // closed here meanwhile (a deadline)
    try {
      c.onEvent(ev[i + 1]!, ev[i + 2]!);
    } catch (e) {
      // Only a broken invariant throws here: fail that request, not the process.
      c.fail(`HTTP framing failed: ${(e as Error).message}`);
    }
  }
}

/** Why the I/O thread is not available here, or null when it is. */
export function ioUnavailable(addon: NativeAddon): string | null {
  const s = sharedLoop(addon);
  return typeof s === 'string' ? s : null;
}

/** The shared loop's poll window and counters (io_loop.h), for the bench and
 * tests; null where this process has no I/O thread. */
export function ioLoopStats(addon: NativeAddon): IoLoopStats | null {
  const s = sharedLoop(addon);
  return typeof s === 'string' ? null : addon.ioStats(s.loop);
}

/** Sets the shared loop's poll window (the bench's no-window row, tests). */
export function setIoWindow(addon: NativeAddon, windowUs: number): void {
  const s = sharedLoop(addon);
  if (typeof s !== 'string') addon.ioWindow(s.loop, windowUs);
}

/** Turns the shared loop's batched reads on or off (the bench's A/B, tests). */
export function setIoBatch(addon: NativeAddon, on: boolean): void {
  const s = sharedLoop(addon);
  if (typeof s !== 'string') addon.ioBatch(s.loop, on);
}

/** The connector for RawHttpPool's I/O-thread route, or null when this
 * process has no I/O thread (the caller keeps the node:net route). */
export function ioConnector(route: RawRoute): Connector | null {
  const s = sharedLoop(route.addon);
  if (typeof s === 'string') return null;
  return (pool, host, port) => new IoConnection(pool, route, s, host, port);
}

/** A connection whose socket the I/O thread owns. */
class IoConnection extends PooledConnection {
  private readonly id: number;
  private closed = false;

  constructor(pool: RawHttpPool, private readonly route: RawRoute, private readonly shared: SharedLoop, host: string, port: number) {
    super(pool);
    this.id = route.addon.ioOpen(shared.loop);
    shared.conns.set(this.id, this);
    // The thread connects to numeric addresses; a name is resolved here
    // first (a request sent meanwhile waits in the thread), every address
    // of it, tried in node:net's order and with its attempt timeout (addresses.ts).
    if (net.isIP(host)) route.addon.ioConnect(shared.loop, this.id, [host], port, 0);
    else {
      dns.lookup(host, { all: true }, (err, addresses) => {
        if (this.closed) return;
        if (err) {
          this.fail(`getaddrinfo ${(err as NodeJS.ErrnoException).code ?? err.message} ${host}`);
          this.destroy();
        } else route.addon.ioConnect(shared.loop, this.id, attemptOrder(addresses), port, attemptTimeoutMs());
      });
    }
  }

  onEvent(kind: number, code: number): void {
    if (kind === EVENT_DONE) {
      if (!this.ex) return this.destroy();
      if (code >> 2 === 200) this.route.addon.ioTake(this.shared.loop, this.route.engine, this.id);
      this.outcome(code);
    } else if (kind === EVENT_FAILED) {
      if (this.ex) this.outcome(-1);
      this.destroy();
    } else {
      // An idle socket the server closed (or that got bytes nobody asked for);
      // never one carrying a request, but if it were, that request fails.
      this.fail('other side closed');
      this.destroy();
    }
  }

  protected socketOpen(): boolean {
    return !this.closed && this.route.addon.ioUsable(this.shared.loop, this.id);
  }

  protected write(ex: Exchange, head: string): void {
    this.route.addon.ioSend(this.shared.loop, this.id, ex.stream, head, ex.req.body);
  }

  protected quiet(): void {
    // The addon keeps the process alive only while requests are in flight.
  }

  protected shut(): void {
    if (this.closed) return;
    this.closed = true;
    this.shared.conns.delete(this.id);
    this.route.addon.ioClose(this.shared.loop, this.id);
  }

  protected result(): NativeHttpResult {
    return this.route.addon.ioResult(this.shared.loop, this.id);
  }

  protected statusSeen(): number {
    return this.closed ? 0 : this.route.addon.ioStatus(this.shared.loop, this.id);
  }
}
