// Per-endpoint admission: a bounded number of requests in flight, and
// continuations of started conversations always before first turns, so
// started samples finish (and free memory, reach disk) before new ones
// begin. The limit adapts to the server's own queue (vLLM /metrics).
import type { ServerMetrics } from '../backends/types';

/** vllm:kv_cache_usage_perc above which the limit stops growing. */
const KV_FULL = 0.8;

export interface LimiterOptions {
  initial: number;
  min: number;
  max: number;
  /** Server queue length to aim for; null disables adaptation. */
  targetWaiting: number | null;
}

export class EndpointLimiter {
  limit: number;
  inFlight = 0;
  private readonly high: Array<() => void> = [];
  private readonly low: Array<() => void> = [];
  /** Highest in-flight count seen, for the run record. */
  peak = 0;

  constructor(private readonly opts: LimiterOptions) {
    this.limit = Math.max(opts.min, Math.min(opts.max, opts.initial));
  }

  /** Waits for a slot. `continuation` requests go first. */
  acquire(continuation: boolean): Promise<void> {
    if (this.inFlight < this.limit && this.high.length === 0 && (continuation || this.low.length === 0)) {
      this.take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (continuation ? this.high : this.low).push(() => { this.take(); resolve(); }));
  }

  release(): void {
    this.inFlight--;
    this.drain();
  }

  /** Requests waiting here for a slot (not yet sent). */
  get queued(): number {
    return this.high.length + this.low.length;
  }

  get queuedContinuations(): number {
    return this.high.length;
  }

  /** Adjusts the limit from a /metrics snapshot: back off when the server
   * queues more than the target, grow while it keeps up and we are the
   * bottleneck. Additive increase, multiplicative decrease. No growth once
   * the KV cache is nearly full: more sequences then only evict the cached
   * prefixes the next turns need, or get preempted (npm run bench -- schedule). */
  adapt(m: ServerMetrics | null): void {
    if (!m || this.opts.targetWaiting === null) return;
    const kvFull = m.kvCacheUsage !== null && m.kvCacheUsage >= KV_FULL;
    if (m.waiting > this.opts.targetWaiting) this.limit = Math.max(this.opts.min, Math.floor(this.limit * 0.85));
    else if (!kvFull && this.queued > 0 && this.inFlight >= this.limit) this.limit = Math.min(this.opts.max, this.limit + Math.max(1, Math.ceil(this.limit * 0.1)));
    this.drain();
  }

  private take(): void {
    this.inFlight++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
  }

  private drain(): void {
    while (this.inFlight < this.limit) {
      const next = this.high.shift() ?? this.low.shift();
      if (!next) break;
      next();
    }
  }
}
