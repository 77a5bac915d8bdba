// StreamEngine over the C++ addon: one feed() crosses the boundary once for
// the whole batch; finish() turns the compact native result into objects
// (one JSON.parse per tool call, never one per event).
import type { NativeAddon, NativeEngineHandle } from '../native/native-api';
import type { StreamEngine, StreamEngineOptions, StreamResult } from './types';
import { answerFromLines, parseAnswer } from './answer';
import { PackedReader, readFinish } from './packed';

/** Larger batches get a one-off buffer rather than one kept for the engine's life. */
const SCRATCH_MAX = 8 * 1024 * 1024;
const NUMS_MAX = 1024 * 1024;

export class NativeStreamEngine implements StreamEngine {
  readonly implementation = 'native' as const;
  private readonly engine: NativeEngineHandle;
  private readonly kinds = new Map<number, StreamEngineOptions['answerKind']>();
  // feed()'s arrays, reused from call to call (grown when a batch is larger).
  private handles = new Uint32Array(64);
  private ends = new Uint32Array(64);
  private times = new Float64Array(64);
  private scratch: Uint8Array = new Uint8Array(64 * 1024);
  // finish()'s numbers, read before the next finish() overwrites them.
  private nums: Float64Array = new Float64Array(512);

  constructor(private readonly addon: NativeAddon) {
    this.engine = addon.createEngine();
  }

  /** The addon and this engine's handle: the raw-socket HTTP route
   * (src/run/raw-http.ts) frames responses in C++ straight into this
   * engine's streams. */
  get binding(): { addon: NativeAddon; engine: NativeEngineHandle } {
    return { addon: this.addon, engine: this.engine };
  }

  open(opts: StreamEngineOptions): number {
    const h = this.addon.open(this.engine, opts.mode === 'text' ? 1 : 0, opts.knownTools, opts.offeredTools);
    this.kinds.set(h, opts.answerKind);
    return h;
  }

  feed(batch: ReadonlyArray<{ handle: number; chunk: Uint8Array; timeMs: number }>): void {
    const n = batch.length;
    if (n > this.handles.length) {
      const cap = Math.max(n, this.handles.length * 2);
      this.handles = new Uint32Array(cap);
      this.ends = new Uint32Array(cap);
      this.times = new Float64Array(cap);
    }
    const { handles, ends, times } = this;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const b = batch[i]!;
      handles[i] = b.handle;
      times[i] = b.timeMs;
      total += b.chunk.length;
      ends[i] = total;
    }
    // One contiguous buffer: the copy is cheaper than one N-API lookup per
    // chunk, and reusing it spares a fresh allocation (and its page faults) per call.
    let data: Uint8Array;
    if (n === 1) data = batch[0]!.chunk;
    else {
      if (total > this.scratch.length) {
        data = new Uint8Array(Math.max(total, this.scratch.length * 2));
        if (data.length <= SCRATCH_MAX) this.scratch = data;
      } else data = this.scratch;
      let off = 0;
      for (let i = 0; i < n; i++) {
        const c = batch[i]!.chunk;
        data.set(c, off);
        off += c.length;
      }
    }
    this.addon.feed(this.engine, handles, data, ends, times, n);
  }

  finish(handle: number): StreamResult {
    const packed = this.addon.finish(this.engine, handle, this.nums);
    // A result that did not fit came in a new, larger array: keep that one.
    if (packed[1].length > this.nums.length && packed[1].length <= NUMS_MAX) this.nums = packed[1];
    const p = new PackedReader(packed);
    const r = readFinish(p);
    const lines = p.answerLines();
    const kind = this.kinds.get(handle) ?? 'verify';
    this.kinds.delete(handle);
    return { ...r, finalAnswer: lines ? answerFromLines(lines, r.content, kind) : parseAnswer(r.content, kind) };
  }

  close(handle: number): void {
    this.addon.close(this.engine, handle);
    this.kinds.delete(handle);
  }
}
