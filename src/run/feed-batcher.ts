// Crosses the native boundary once per event-loop turn, not once per body
// chunk: chunks of every stream that arrived in this tick travel to the
// stream engine in one feed() call.
import type { StreamEngine } from '../extract/types';

export class FeedBatcher {
  private pending: Array<{ handle: number; chunk: Uint8Array; timeMs: number }> = [];
  private scheduled = false;

  constructor(private readonly engine: StreamEngine) {}

  push(handle: number, chunk: Uint8Array, timeMs: number): void {
    this.pending.push({ handle, chunk, timeMs });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Feeds everything pending now (also called before finishing a stream). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.engine.feed(batch);
  }
}
