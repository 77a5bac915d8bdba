// StreamEngine over the C++ addon: one feed() crosses the boundary once for
// the whole batch; finish() turns the compact native result into objects
// (one JSON.parse per tool call, never one per event).
import type { NativeAddon, NativeEngineHandle } from '../native/native-api';
import type { StreamEngine, StreamEngineOptions, StreamResult } from './types';
import { parseAnswer } from './answer';
import { readFinish } from './packed';

export class NativeStreamEngine implements StreamEngine {
  readonly implementation = 'native' as const;
  private readonly engine: NativeEngineHandle;
  private readonly kinds = new Map<number, StreamEngineOptions['answerKind']>();

  constructor(private readonly addon: NativeAddon) {
    this.engine = addon.createEngine();
  }

  open(opts: StreamEngineOptions): number {
    const h = this.addon.open(this.engine, opts.mode === 'text' ? 1 : 0, opts.knownTools);
    this.kinds.set(h, opts.answerKind);
    return h;
  }

  feed(batch: ReadonlyArray<{ handle: number; chunk: Uint8Array; timeMs: number }>): void {
    const n = batch.length;
    const handles = new Uint32Array(n);
    const times = new Float64Array(n);
    const ends = new Uint32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const b = batch[i]!;
      handles[i] = b.handle;
      times[i] = b.timeMs;
      total += b.chunk.length;
      ends[i] = total;
    }
    // One contiguous buffer: the copy is cheaper than one N-API lookup per chunk.
    let data: Uint8Array;
    if (n === 1) data = batch[0]!.chunk;
    else {
      data = Buffer.allocUnsafe(total);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const c = batch[i]!.chunk;
        data.set(c, off);
        off += c.length;
      }
    }
    this.addon.feed(this.engine, handles, data, ends, times);
  }

  finish(handle: number): StreamResult {
    const r = readFinish(this.addon.finish(this.engine, handle));
    const kind = this.kinds.get(handle) ?? 'verify';
    this.kinds.delete(handle);
    return { ...r, finalAnswer: parseAnswer(r.content, kind) };
  }

  close(handle: number): void {
    this.addon.close(this.engine, handle);
    this.kinds.delete(handle);
  }
}
