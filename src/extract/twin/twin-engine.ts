// The TypeScript twin of the native engine: test oracle, bench baseline and
// the fallback when the addon cannot load.
import type { StreamEngine, StreamEngineOptions, StreamResult } from '../types';
import { parseAnswer } from '../answer';
import { TwinStream } from './stream-state';

export class TwinStreamEngine implements StreamEngine {
  readonly implementation = 'typescript' as const;
  private readonly streams = new Map<number, { s: TwinStream; opts: StreamEngineOptions }>();
  private next = 1;

  open(opts: StreamEngineOptions): number {
    const h = this.next++;
    this.streams.set(h, { s: new TwinStream(opts.mode ?? 'sse', opts.knownTools, opts.offeredTools), opts });
    return h;
  }

  private get(handle: number): { s: TwinStream; opts: StreamEngineOptions } {
    const st = this.streams.get(handle);
    if (!st) throw new TypeError(`unknown or closed stream handle ${handle}`);
    return st;
  }

  feed(batch: ReadonlyArray<{ handle: number; chunk: Uint8Array; timeMs: number }>): void {
    const targets = batch.map((b) => this.get(b.handle).s);
    for (let i = 0; i < batch.length; i++) targets[i]!.feed(batch[i]!.chunk, batch[i]!.timeMs);
  }

  finish(handle: number): StreamResult {
    const { s, opts } = this.get(handle);
    this.streams.delete(handle);
    const r = s.finish();
    return { ...r, finalAnswer: parseAnswer(r.content, opts.answerKind) };
  }

  close(handle: number): void {
    this.get(handle);
    this.streams.delete(handle);
  }
}
