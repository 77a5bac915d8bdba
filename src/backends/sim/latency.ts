// A coarse model of one vLLM engine's timing (SIMULATED): a cap on running
// sequences with a FIFO waiting queue, prefill time from uncached prompt
// tokens and images, decode time per token. Off by default; the scheduler
// tests turn it on to see /metrics queues that respond to load.

export interface LatencyModel {
  /** --max-num-seqs: sequences decoding at once. */
  maxRunning: number;
  prefillTokensPerS: number;
  /** Vision encoder time per image not in the mm cache. */
  imageMs: number;
  /** Per-sequence decode time per generated token. */
  decodeMsPerToken: number;
  /** KV cache capacity in tokens (for vllm:kv_cache_usage_perc). */
  kvCacheTokens: number;
}

export const DEFAULT_LATENCY: LatencyModel = {
  maxRunning: 32,
  prefillTokensPerS: 40_000,
  imageMs: 8,
  decodeMsPerToken: 4,
  kvCacheTokens: 200_000,
};

/** Running/waiting bookkeeping of the simulated engine. */
export class EngineQueue {
  running = 0;
  kvTokens = 0;
  private waiting: Array<() => void> = [];
  constructor(private readonly maxRunning: number) {}
  get waitingCount(): number {
    return this.waiting.length;
  }
  /** Resolves when the request may run; call the returned release when done. */
  async admit(tokens: number): Promise<() => void> {
    if (this.running >= this.maxRunning) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    this.kvTokens += tokens;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.kvTokens -= tokens;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so running stays put.
      if (next) next();
      else this.running--;
    };
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
