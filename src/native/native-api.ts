// Hand-written mirror of the addon's exports (native/src/binding.cc).
// test/10.native-binding.test.ts checks the two stay in step.

/** Opaque, type-tagged engine handle (an N-API External). */
export type NativeEngineHandle = { readonly __tceNativeEngine: unique symbol };

/** Results cross as [all strings back to back, numbers and string lengths];
 * read by src/extract/packed.ts in the order native/src/binding.cc writes them. */
export type NativePacked = [string, Float64Array];

export interface NativeAddon {
  version(): string;
  createEngine(): NativeEngineHandle;
  /** mode 0: SSE body; 1: plain text. offeredTools: the tools offered to the
   * model (undefined: unknown, no not_offered status). Returns the stream handle. */
  open(engine: NativeEngineHandle, mode: 0 | 1, knownTools: readonly string[], offeredTools?: readonly string[]): number;
  /** One call for many streams' body chunks: chunk i is data[ends[i-1], ends[i]) for handles[i].
   * With `count`, only the first `count` entries of the three arrays are read (reused scratch arrays);
   * without it they must all be the batch's length. */
  feed(engine: NativeEngineHandle, handles: Uint32Array, data: Uint8Array, ends: Uint32Array, timesMs: Float64Array, count?: number): void;
  /** Ends the stream and closes its handle. The numbers are written into `nums`
   * when they fit (the result then holds `nums` itself: read it before the next
   * call that reuses it), else into a new array. */
  finish(engine: NativeEngineHandle, handle: number, nums?: Float64Array): NativePacked;
  close(engine: NativeEngineHandle, handle: number): void;
  /** Per text: content, reasoning, calls, final-answer lines (src/extract/packed.ts). */
  extractTexts(texts: readonly string[], knownTools: readonly string[], offeredTools?: readonly string[]): NativePacked;
  /** HTTP/1.1 response framing of one connection (the raw-socket route, src/run/raw-http.ts). */
  httpOpen(engine: NativeEngineHandle): number;
  /** Expects the next response on `conn`; a 200 body feeds engine stream `stream` (0: none). */
  httpBegin(engine: NativeEngineHandle, conn: number, stream: number): void;
  /** Frames buf[0, n): 0 more to come, -1 malformed or cut short (see httpResult),
   * else done: status * 4, + 2 when the server sent a Keep-Alive timeout hint
   * (in httpResult), + 1 when the connection may carry another request. */
  httpRead(engine: NativeEngineHandle, conn: number, buf: Uint8Array, n: number, timeMs: number): number;
  /** The server closed the connection: the same outcome codes as httpRead. */
  httpEof(engine: NativeEngineHandle, conn: number): number;
  httpResult(engine: NativeEngineHandle, conn: number): NativeHttpResult;
  httpClose(engine: NativeEngineHandle, conn: number): void;
  /** The raw route's I/O thread (Linux; src/run/io-http.ts): a loop whose
   * completions reach `onEvents` in batches, [conn, kind, code] triples (kind
   * 1 done: code is httpRead's outcome; 2 failed: code is the status seen, 0
   * before the head, ioResult says why; 3 an idle connection closed). nowMs:
   * performance.now(), to map the reads' CLOCK_MONOTONIC times. windowUs:
   * the poll window (native/src/io/io_loop.h), whole µs 0-1,000,000. batchReads
   * (default true): a wake's reads in one io_uring_enter where the kernel allows. A string
   * says why there is no loop here. */
  ioLoop(onEvents: (events: Float64Array) => void, nowMs: number, windowUs: number, batchReads?: boolean): NativeIoLoop | string;
  ioOpen(loop: NativeIoLoop): number;
  /** A non-blocking connect to the first of `ips` (numeric, tried in order)
   * that takes it; the failure of them all arrives as an event. An attempt
   * with addresses after it gives up after attemptTimeoutMs (0: never). */
  ioConnect(loop: NativeIoLoop, conn: number, ips: readonly string[], port: number, attemptTimeoutMs: number): void;
  /** Sends head (latin1) and body; a 200 body is kept for engine stream `stream`. */
  ioSend(loop: NativeIoLoop, conn: number, stream: number, head: string, body: Uint8Array): void;
  /** Not closed (by either side) and not busy. */
  ioUsable(loop: NativeIoLoop, conn: number): boolean;
  /** The status of the response in flight once its head is complete, else 0. */
  ioStatus(loop: NativeIoLoop, conn: number): number;
  /** After a 200's done event: feeds its body, each chunk with its read time, into its stream. */
  ioTake(loop: NativeIoLoop, engine: NativeEngineHandle, conn: number): void;
  /** As httpResult; a socket error reads `socket: <node:net's words>`. */
  ioResult(loop: NativeIoLoop, conn: number): NativeHttpResult;
  ioClose(loop: NativeIoLoop, conn: number): void;
  /** Sets the poll window from the thread's next batch on. */
  ioWindow(loop: NativeIoLoop, windowUs: number): void;
  /** Whether a wake's reads go through one io_uring_enter (native/src/io/batch_recv.h); on by default. */
  ioBatch(loop: NativeIoLoop, on: boolean): void;
  /** Since the loop started: wakes that found a socket ready, reads that returned bytes (and
   * those of them read in a batch); the batch's state: 'io_uring', 'off', 'not yet used', or
   * why there is no ring. */
  ioStats(loop: NativeIoLoop): IoLoopStats;
  /** Stops and joins the thread; every later call on the loop throws. */
  ioStop(loop: NativeIoLoop): void;
  /** src[start, end) as one LZ4 block into dst[at, limit): its end there, or -1 when it does not fit
   * (the bytes of src/util/lz4.ts's compressor). */
  lz4EncodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number, limit: number): number;
  /** The LZ4 block src[start, end) decoded into dst from `at` (matches may reach back to dst[0]):
   * the end of the output, or -1 when dst is too small; throws on a malformed block. */
  lz4DecodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number;
}

export interface IoLoopStats {
  wakes: number;
  reads: number;
  batchedReads: number;
  batch: string;
  windowUs: number;
}

/** Opaque, type-tagged I/O loop handle (an N-API External). */
export type NativeIoLoop = { readonly __tceNativeIoLoop: unique symbol };

/** [status (0 before the head was complete), header names and values flat (names
 * lowercased, values latin1), body text of a non-200 (up to 1 MiB), error ('' or
 * `kind: detail`), Keep-Alive timeout hint in ms (-1: none), bytes of the response seen]. */
export type NativeHttpResult = [number, string[], string, string, number, number];

export const NATIVE_EXPORTS: ReadonlyArray<keyof NativeAddon> = ['version', 'createEngine', 'open', 'feed', 'finish', 'close', 'extractTexts', 'httpOpen', 'httpBegin', 'httpRead', 'httpEof', 'httpResult', 'httpClose', 'ioLoop', 'ioOpen', 'ioConnect', 'ioSend', 'ioUsable', 'ioStatus', 'ioTake', 'ioResult', 'ioClose', 'ioWindow', 'ioBatch', 'ioStats', 'ioStop', 'lz4EncodeBlock', 'lz4DecodeBlock'];
