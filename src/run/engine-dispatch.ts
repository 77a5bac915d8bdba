// One streamed POST through undici's dispatcher with a handler of our own:
// each response-body chunk goes from the HTTP parser straight to the feed
// batcher (and so to the stream engine), with no body stream, async
// iterator or promise per chunk. That per-chunk machinery, not the engine,
// was most of the driver's cost on paced streams (bench/runner.bench.ts).
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { StreamEngine, StreamEngineOptions } from '../extract/types';
import type { FeedBatcher } from './feed-batcher';
import { socketErrorText } from './addresses';

export interface DispatchedTurn {
  /** A status other than 200: its body text and headers (nothing reached the engine). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  errorText: string;
  /** The engine stream that took a 200 body (-1 otherwise). */
  handle: number;
}

/** How a request failed before completing: `started` once a 200's body
 * began (then chunks reached the engine), `timedOut` when the deadline
 * cut it. */
export class DispatchFailure extends Error {
  constructor(message: string, readonly started: boolean, readonly timedOut: boolean) {
    super(message);
  }
}

class Deadline extends Error {}

class EngineStreamHandler implements Dispatcher.DispatchHandler {
  private timer: NodeJS.Timeout | null = null;
  private status = 0;
  private headers: DispatchedTurn['headers'] = {};
  private handle = -1;
  private errorChunks: Buffer[] | null = null;
  private deadline: Deadline | null = null;

  constructor(
    private readonly engine: StreamEngine,
    private readonly batcher: FeedBatcher,
    private readonly engineOpts: StreamEngineOptions,
    private readonly timeoutMs: number,
    private readonly resolve: (t: DispatchedTurn) => void,
    private readonly reject: (e: DispatchFailure) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.deadline = new Deadline(`deadline of ${this.timeoutMs} ms`);
      controller.abort(this.deadline);
    }, this.timeoutMs);
    // As AbortSignal.timeout: the open socket, not the deadline, keeps the process up.
    this.timer.unref();
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: DispatchedTurn['headers']): void {
    this.status = statusCode;
    this.headers = headers;
    if (statusCode === 200) this.handle = this.engine.open(this.engineOpts);
    else this.errorChunks = [];
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.handle >= 0) this.batcher.push(this.handle, chunk, performance.now());
    else this.errorChunks?.push(chunk);
  }

  onResponseEnd(): void {
    this.stopTimer();
    const errorText = this.errorChunks ? Buffer.concat(this.errorChunks).toString('utf8') : '';
    this.resolve({ status: this.status, headers: this.headers, errorText, handle: this.handle });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.stopTimer();
    const started = this.handle >= 0;
    if (started) {
      this.batcher.flush();
      this.engine.close(this.handle);
    }
    this.reject(new DispatchFailure(socketErrorText(err), started, this.deadline !== null));
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/** How NativeChatClient sends a turn: undici (below) or, for the native
 * engine on http:, raw sockets with C++ framing (raw-http.ts), read by
 * node:net ('raw') or by the addon's I/O thread ('io', io-http.ts). */
export interface TurnTransport {
  readonly route: 'raw' | 'io' | 'undici';
  send(req: TurnRequest, engineOpts: StreamEngineOptions): Promise<DispatchedTurn>;
  close(): Promise<void>;
}

export interface TurnRequest {
  path: string;
  /** Flat [name, value, ...]: built once per client. */
  headers: string[];
  body: Buffer;
  timeoutMs: number;
}

/** Sends one request; a 200 body streams into the engine as it arrives. */
export function dispatchTurn(pool: Dispatcher, req: TurnRequest, engine: StreamEngine, batcher: FeedBatcher, engineOpts: StreamEngineOptions): Promise<DispatchedTurn> {
  return new Promise<DispatchedTurn>((resolve, reject) => {
    const handler = new EngineStreamHandler(engine, batcher, engineOpts, req.timeoutMs, resolve, reject);
    pool.dispatch({ path: req.path, method: 'POST', headers: req.headers, body: req.body, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs }, handler);
  });
}

/** undici's dispatcher with the raw handler above. */
export class UndiciTransport implements TurnTransport {
  readonly route = 'undici' as const;
  constructor(private readonly pool: Dispatcher, private readonly engine: StreamEngine, private readonly batcher: FeedBatcher) {}

  send(req: TurnRequest, engineOpts: StreamEngineOptions): Promise<DispatchedTurn> {
    return dispatchTurn(this.pool, req, this.engine, this.batcher, engineOpts);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
