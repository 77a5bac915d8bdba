// Drives the engine model (src/backends/sim/engine-model.ts) in virtual
// time under a client scheduling policy. The tce policy replays the
// driver's own decisions with its real EndpointLimiter: runTasks' window of
// open samples (limit x 2, condition-major), continuation-first slots, and
// adapt() from the engine's waiting queue every METRICS_POLL_MS.
import { EngineModel, type EngineConstants, type EngineRequest } from '../../src/backends/sim/engine-model';
import { EndpointLimiter } from '../../src/run/limiter';
import type { ServerMetrics } from '../../src/backends/types';

export interface Conversation {
  key: string;
  sharedKey: string;
  sharedTokens: number;
  image: string;
  imageTokens: number;
  /** Per turn: the whole prompt and the tokens generated. */
  turns: Array<{ promptTokens: number; outputTokens: number }>;
}

export interface SchedulerApi {
  send(conv: Conversation, turn: number): void;
  readonly engine: EngineModel;
}

export interface Policy {
  name: string;
  start(api: SchedulerApi): void;
  turnDone(conv: Conversation, turn: number, api: SchedulerApi): void;
  /** Called every tickMs of virtual time (the driver's /metrics poll). */
  tick?(api: SchedulerApi): void;
}

export interface SimResult {
  policy: string;
  makespanMs: number;
  busyMs: number;
  prefixHitRate: number;
  mmHitRate: number;
  preemptions: number;
  meanDecodeBatch: number;
  turns: number;
}

const TICK_MS = 1000;
/** Client time between a response and the next turn's request (tool run, HTTP). */
const CLIENT_MS = 2;

export async function simulate(convs: Conversation[], c: EngineConstants, policy: Policy): Promise<SimResult> {
  const engine = new EngineModel(c);
  const byId = new Map<number, { conv: Conversation; turn: number }>();
  const arrivals: Array<{ at: number; req: EngineRequest }> = [];
  let now = 0, nextId = 0, turns = 0, nextTick = TICK_MS;
  const api: SchedulerApi = {
    engine,
    send(conv, turn) {
      const t = conv.turns[turn]!;
      const req: EngineRequest = { id: nextId++, conversation: conv.key, sharedKey: conv.sharedKey, sharedTokens: conv.sharedTokens, promptTokens: t.promptTokens, outputTokens: t.outputTokens, image: conv.image, imageTokens: conv.imageTokens };
      byId.set(req.id, { conv, turn });
      arrivals.push({ at: now + CLIENT_MS, req });
    },
  };
  policy.start(api);
  await settle();
  for (;;) {
    while (arrivals.length && arrivals[0]!.at <= now) engine.submit(arrivals.shift()!.req);
    if (engine.idle) {
      if (!arrivals.length) break;
      now = arrivals[0]!.at;
      continue;
    }
    const r = engine.step();
    now += r.ms;
    for (const req of r.finished) {
      const d = byId.get(req.id)!;
      byId.delete(req.id);
      turns++;
      policy.turnDone(d.conv, d.turn, api);
    }
    if (now >= nextTick) { nextTick = now + TICK_MS; policy.tick?.(api); }
    // The tce policy's limiter hands out slots through promises.
    await settle();
  }
  if (byId.size) throw new Error(`${policy.name}: ${byId.size} requests never finished`);
  const s = engine.stats;
  return {
    policy: policy.name, makespanMs: now, busyMs: s.busyMs, turns,
    prefixHitRate: s.prefixHitTokens / Math.max(1, s.prefixQueryTokens),
    mmHitRate: s.mmHits / Math.max(1, s.mmQueries),
    preemptions: s.preemptions,
    meanDecodeBatch: s.decodeTokens / Math.max(1, s.steps),
  };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** tce: the driver's runTasks window and EndpointLimiter, defaults from the config schema. */
export function tcePolicy(convs: Conversation[], opts = { initial: 64, min: 4, max: 512, targetWaiting: 8 }): Policy {
  const limiter = new EndpointLimiter(opts);
  let next = 0, open = 0;
  const turn = (conv: Conversation, k: number, api: SchedulerApi): void => {
    void limiter.acquire(k > 0).then(() => api.send(conv, k));
  };
  const pump = (api: SchedulerApi): void => {
    while (next < convs.length && open < limiter.limit * 2) { open++; turn(convs[next++]!, 0, api); }
  };
  return {
    name: 'tce (continuation-first adaptive)',
    start: pump,
    turnDone(conv, k, api) {
      limiter.release();
      if (k + 1 < conv.turns.length) turn(conv, k + 1, api);
      else { open--; pump(api); }
    },
    tick(api) {
      const m: ServerMetrics = { waiting: api.engine.waitingCount, running: api.engine.runningCount, kvCacheUsage: api.engine.kvUsage, prefixCacheHits: null, prefixCacheQueries: null, mmCacheHits: null, mmCacheQueries: null, preemptions: null } as ServerMetrics;
      limiter.adapt(m);
      pump(api);
    },
  };
}

/** A fixed number of requests in flight, served first come first served;
 * every conversation is open from the start, so a continuation queues
 * behind every first turn not yet sent. */
export function fifoPolicy(convs: Conversation[], concurrency: number): Policy {
  const queue: Array<[Conversation, number]> = convs.map((c) => [c, 0]);
  let head = 0, inFlight = 0;
  const drain = (api: SchedulerApi): void => {
    while (inFlight < concurrency && head < queue.length) { const [c, k] = queue[head++]!; inFlight++; api.send(c, k); }
  };
  return {
    name: `FIFO, ${concurrency} in flight`,
    start: drain,
    turnDone(conv, k, api) {
      inFlight--;
      if (k + 1 < conv.turns.length) queue.push([conv, k + 1]);
      drain(api);
    },
  };
}

/** The plan's rounds: every conversation's turn k before any turn k+1, a fixed number in flight. */
export function lockStepPolicy(convs: Conversation[], concurrency: number): Policy {
  let round = 0, queue: Conversation[] = [], head = 0, inFlight = 0;
  const startRound = (api: SchedulerApi): void => {
    queue = convs.filter((c) => c.turns.length > round);
    head = 0;
    drain(api);
  };
  const drain = (api: SchedulerApi): void => {
    while (inFlight < concurrency && head < queue.length) { inFlight++; api.send(queue[head++]!, round); }
  };
  return {
    name: `lock-step rounds, ${concurrency} in flight`,
    start: startRound,
    turnDone(_conv, _k, api) {
      inFlight--;
      drain(api);
      if (inFlight === 0 && head >= queue.length) { round++; startRound(api); }
    },
  };
}

/** The workload's engine time if every step ran a full batch and every
 * prefix was reused: the ideal prefill, one image encode per conversation,
 * decode at the largest batch the KV cache holds (shared prefixes stored
 * once, the mean own context per decoding sequence). Approximate: a mean,
 * not a per-step optimum. */
export function lowerBoundMs(convs: Conversation[], c: EngineConstants): number {
  let prefill = 0, decode = 0, ctxSum = 0, ownCtxSum = 0, sharedTokens = 0;
  const shared = new Set<string>();
  for (const conv of convs) {
    if (!shared.has(conv.sharedKey)) { shared.add(conv.sharedKey); prefill += conv.sharedTokens; sharedTokens += conv.sharedTokens; }
    let seen = conv.sharedTokens;
    for (const t of conv.turns) {
      prefill += t.promptTokens - seen;
      decode += t.outputTokens;
      const ctx = t.outputTokens * (t.promptTokens + t.outputTokens / 2);
      ctxSum += ctx;
      ownCtxSum += ctx - t.outputTokens * conv.sharedTokens;
      seen = t.promptTokens + t.outputTokens;
    }
  }
  const batch = Math.max(1, Math.min(c.maxNumSeqs, Math.floor((c.kvCapacityTokens - sharedTokens) / (ownCtxSum / decode))));
  const perDecodeToken = c.stepBaseMs / batch + c.decodeMsPerSeq;
  return prefill * c.prefillMsPerToken + convs.length * c.visionMsPerImage + decode * perDecodeToken + (ctxSum / 1000) * c.kvReadMsPer1kTokens;
}
