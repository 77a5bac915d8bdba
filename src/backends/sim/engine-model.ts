// A continuous-batching model of one vLLM engine (SIMULATED, virtual
// clock): every step decodes one token for each running sequence and
// spends the rest of a token budget on (chunked) prefill; its time comes
// from the batch's decode and prefill tokens. KV memory is counted in
// blocks; when a running sequence needs a block and none is free the
// newest running sequence is preempted and later recomputed (vLLM V1's
// recompute preemption). Finished sequences leave their KV in a prefix
// cache keyed by conversation, so a conversation's next turn only prefills
// what is new, until the cache has to give the blocks back (LRU).
// Constants and their sources: docs/performance.md ("GPU schedule model").

export interface EngineConstants {
  label: string;
  /** Fixed cost of one step (weights read once per step, launch overhead). */
  stepBaseMs: number;
  /** Extra step time per decoding sequence. */
  decodeMsPerSeq: number;
  /** Step time per 1,000 tokens of KV read by the decoding sequences. */
  kvReadMsPer1kTokens: number;
  /** Step time per prefilled (uncached) prompt token. */
  prefillMsPerToken: number;
  /** Vision encoder time per image whose tokens are prefilled. */
  visionMsPerImage: number;
  kvCapacityTokens: number;
  blockTokens: number;
  /** --max-num-seqs. */
  maxNumSeqs: number;
  /** --max-num-batched-tokens: the per-step token budget. */
  maxBatchedTokens: number;
  /** Multimodal processor cache, in images. */
  mmCacheItems: number;
}

export interface EngineRequest {
  id: number;
  /** The prefix cache keeps each conversation's latest tokens under this key. */
  conversation: string;
  /** Key and length of the prefix every request of a condition shares (system prompt and tools). */
  sharedKey: string;
  sharedTokens: number;
  /** The whole prompt, shared prefix included. */
  promptTokens: number;
  outputTokens: number;
  /** The image sits right after the shared prefix. */
  image: string | null;
  imageTokens: number;
}

interface Seq {
  req: EngineRequest;
  /** Tokens to have KV for before decoding (grows by the generated ones on preemption). */
  target: number;
  /** Tokens whose KV exists. */
  computed: number;
  generated: number;
  /** Own KV blocks (the shared prefix is counted once, in the cache). */
  blocks: number;
}

export interface StepResult {
  ms: number;
  /** Requests whose first token this step samples. */
  started: EngineRequest[];
  finished: EngineRequest[];
  decodeSeqs: number;
  prefillTokens: number;
}

export interface EngineStats {
  steps: number;
  busyMs: number;
  decodeTokens: number;
  prefillTokens: number;
  prefixQueryTokens: number;
  prefixHitTokens: number;
  mmQueries: number;
  mmHits: number;
  preemptions: number;
  imagesEncoded: number;
}

export class EngineModel {
  readonly stats: EngineStats = { steps: 0, busyMs: 0, decodeTokens: 0, prefillTokens: 0, prefixQueryTokens: 0, prefixHitTokens: 0, mmQueries: 0, mmHits: 0, preemptions: 0, imagesEncoded: 0 };
  private waiting: Seq[] = [];
  private running: Seq[] = [];
  /** Conversation key -> cached own blocks, oldest first (LRU). */
  private cache = new Map<string, { tokens: number; blocks: number }>();
  private cachedBlocks = 0;
  private shared = new Map<string, number>();
  private sharedBlocks = 0;
  private usedBlocks = 0;
  private mm = new Map<string, true>();
  private readonly totalBlocks: number;

  constructor(readonly c: EngineConstants) {
    this.totalBlocks = Math.floor(c.kvCapacityTokens / c.blockTokens);
  }

  get waitingCount(): number { return this.waiting.length; }
  get runningCount(): number { return this.running.length; }
  get idle(): boolean { return this.waiting.length === 0 && this.running.length === 0; }
  get kvUsage(): number { return (this.usedBlocks + this.sharedBlocks) / this.totalBlocks; }

  /** Queues a request; the mm (processor) cache is consulted on arrival, as in vLLM's frontend. */
  submit(req: EngineRequest): void {
    if (req.promptTokens < 1 || req.outputTokens < 1) throw new Error(`engine model: request ${req.id} needs prompt and output tokens`);
    if (req.image) {
      this.stats.mmQueries++;
      if (this.mm.has(req.image)) { this.stats.mmHits++; this.mm.delete(req.image); }
      this.mm.set(req.image, true);
      if (this.mm.size > this.c.mmCacheItems) this.mm.delete(this.mm.keys().next().value!);
    }
    this.waiting.push({ req, target: req.promptTokens, computed: 0, generated: 0, blocks: 0 });
  }

  /** Runs one engine step; ms 0 when there was nothing to run. */
  step(): StepResult {
    const budget = { tokens: this.c.maxBatchedTokens };
    const plan = new Map<Seq, number>();
    const preempted = this.scheduleRunning(plan, budget);
    if (!preempted) this.admitWaiting(plan, budget);
    if (plan.size === 0) {
      if (this.running.length === 0 && this.waiting.length) throw new Error(`engine model: request ${this.waiting[0]!.req.id} does not fit in the KV cache`);
      return { ms: 0, started: [], finished: [], decodeSeqs: 0, prefillTokens: 0 };
    }
    return this.execute(plan);
  }

  private blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.c.blockTokens);
  }

  /** Frees cached (idle) blocks, oldest conversation first, until `need` blocks are free. */
  private reserve(need: number): boolean {
    while (this.totalBlocks - this.usedBlocks - this.sharedBlocks - this.cachedBlocks < need) {
      const oldest = this.cache.entries().next();
      if (oldest.done) return false;
      this.cache.delete(oldest.value[0]);
      this.cachedBlocks -= oldest.value[1].blocks;
    }
    return true;
  }

  /** Grows a sequence's own KV to hold `ownTokens` tokens. */
  private grow(s: Seq, ownTokens: number): boolean {
    const need = this.blocksFor(ownTokens) - s.blocks;
    if (need <= 0) return true;
    if (!this.reserve(need)) return false;
    s.blocks += need;
    this.usedBlocks += need;
    return true;
  }

  private ownTokens(s: Seq, total: number): number {
    return Math.max(0, total - s.req.sharedTokens);
  }

  /** Running sequences first: a decode token each, or their next prefill chunk. */
  private scheduleRunning(plan: Map<Seq, number>, budget: { tokens: number }): boolean {
    let preempted = false;
    for (let i = 0; i < this.running.length && budget.tokens > 0; i++) {
      const s = this.running[i]!;
      const n = s.computed < s.target ? Math.min(s.target - s.computed, budget.tokens) : 1;
      while (!this.grow(s, this.ownTokens(s, s.computed + n))) {
        const victim = this.running[this.running.length - 1]!;
        this.preempt(victim);
        plan.delete(victim);
        preempted = true;
        if (victim === s) break;
      }
      if (!this.running.includes(s)) break;
      plan.set(s, n);
      budget.tokens -= n;
    }
    return preempted;
  }

  private preempt(s: Seq): void {
    this.running.pop();
    this.stats.preemptions++;
    // Its blocks stay as a cache entry; recomputation hits what survives.
    this.park(s, s.computed);
    s.target = s.req.promptTokens + s.generated;
    s.computed = 0;
    this.waiting.unshift(s);
  }

  /** Moves a sequence's own blocks into the prefix cache under its conversation. */
  private park(s: Seq, tokens: number): void {
    this.usedBlocks -= s.blocks;
    const old = this.cache.get(s.req.conversation);
    if (old) { this.cache.delete(s.req.conversation); this.cachedBlocks -= old.blocks; }
    this.cache.set(s.req.conversation, { tokens: this.ownTokens(s, tokens), blocks: s.blocks });
    this.cachedBlocks += s.blocks;
    s.blocks = 0;
  }

  /** Waiting sequences in arrival order while seats, budget and KV last. */
  private admitWaiting(plan: Map<Seq, number>, budget: { tokens: number }): void {
    while (this.waiting.length && this.running.length < this.c.maxNumSeqs && budget.tokens > 0) {
      const s = this.waiting[0]!;
      const hit = this.lookup(s);
      const n = Math.min(s.target - hit, budget.tokens);
      if (!this.grow(s, this.ownTokens(s, hit + n))) { this.release(s); break; }
      this.waiting.shift();
      this.stats.prefixQueryTokens += s.target;
      this.stats.prefixHitTokens += hit;
      s.computed = hit;
      this.running.push(s);
      plan.set(s, n);
      budget.tokens -= n;
    }
  }

  /** Takes the cached prefix of a waiting sequence (its conversation's blocks become its own).
   * At least one token is always recomputed, as in vLLM. */
  private lookup(s: Seq): number {
    const shared = this.shared.has(s.req.sharedKey) ? s.req.sharedTokens : 0;
    const own = this.cache.get(s.req.conversation);
    let hit = shared;
    if (shared && own) {
      this.cache.delete(s.req.conversation);
      this.cachedBlocks -= own.blocks;
      s.blocks = own.blocks;
      this.usedBlocks += own.blocks;
      hit += own.tokens;
    }
    return Math.min(hit, s.target - 1);
  }

  /** Gives a not-admitted sequence's taken blocks back to the cache. */
  private release(s: Seq): void {
    if (s.blocks > 0) this.park(s, s.req.sharedTokens + s.blocks * this.c.blockTokens);
  }

  private execute(plan: Map<Seq, number>): StepResult {
    const c = this.c;
    let decodeSeqs = 0, kvRead = 0, prefill = 0, images = 0;
    const finished: EngineRequest[] = [], started: EngineRequest[] = [];
    for (const [s, n] of plan) {
      if (s.computed >= s.target) {
        decodeSeqs++;
        kvRead += s.computed;
      } else {
        prefill += n;
        const imgEnd = s.req.sharedTokens + s.req.imageTokens;
        if (s.req.image && s.computed < imgEnd && s.computed + n > s.req.sharedTokens) images++;
        if (s.computed + n >= s.req.sharedTokens && !this.shared.has(s.req.sharedKey)) this.addShared(s.req);
      }
      s.computed += n;
      // The step that completes a prompt also samples its first token.
      if (s.computed < s.target) continue;
      if (++s.generated === 1) started.push(s.req);
      if (s.generated >= s.req.outputTokens) finished.push(s.req);
    }
    for (const req of finished) this.finish(req);
    const ms = c.stepBaseMs + decodeSeqs * c.decodeMsPerSeq + (kvRead / 1000) * c.kvReadMsPer1kTokens + prefill * c.prefillMsPerToken + images * c.visionMsPerImage;
    const st = this.stats;
    st.steps++; st.busyMs += ms; st.decodeTokens += decodeSeqs; st.prefillTokens += prefill; st.imagesEncoded += images;
    return { ms, started, finished, decodeSeqs, prefillTokens: prefill };
  }

  private addShared(req: EngineRequest): void {
    this.shared.set(req.sharedKey, req.sharedTokens);
    this.sharedBlocks += this.blocksFor(req.sharedTokens);
  }

  private finish(req: EngineRequest): void {
    const i = this.running.findIndex((s) => s.req === req);
    const s = this.running[i]!;
    this.running.splice(i, 1);
    this.park(s, s.computed);
  }
}

/** Qwen3-VL-8B-Instruct, bf16, one H100 SXM 80 GB. Sources and which
 * numbers are estimates: docs/performance.md. */
export const QWEN3_VL_8B_H100: EngineConstants = {
  label: 'Qwen3-VL-8B bf16 on H100 (modelled)',
  stepBaseMs: 6.5,
  decodeMsPerSeq: 0.026,
  kvReadMsPer1kTokens: 0.044,
  prefillMsPerToken: 0.031,
  visionMsPerImage: 9,
  kvCapacityTokens: 360_000,
  blockTokens: 16,
  maxNumSeqs: 1024,
  maxBatchedTokens: 8192,
  mmCacheItems: 256,
};

/** Qwen3-VL-2B-Instruct, bf16, one H100 SXM 80 GB (estimates scaled from the 8B; see docs). */
export const QWEN3_VL_2B_H100: EngineConstants = {
  label: 'Qwen3-VL-2B bf16 on H100 (modelled)',
  stepBaseMs: 2.5,
  decodeMsPerSeq: 0.012,
  kvReadMsPer1kTokens: 0.034,
  prefillMsPerToken: 0.008,
  visionMsPerImage: 6,
  kvCapacityTokens: 550_000,
  blockTokens: 16,
  maxNumSeqs: 1024,
  maxBatchedTokens: 8192,
  mmCacheItems: 256,
};
