// Writing a planned response: the SSE stream (with the latency model and the
// injected faults) and the non-streamed body. The bytes come from wire.ts.
import type http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import type { StreamFault, FaultPlan } from './faults';
import { sleep, type LatencyModel } from './latency';
import type { Plan } from './planner';
import { VllmError } from './request';
import { completionBody, deltaChunk, DONE, errorEvent, roleChunk, usageChunk, type ChunkIds } from './wire';

// vLLM's StreamingResponse sets only the media type (no cache-control).
export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8' };
export const JSON_HEADERS = { 'content-type': 'application/json' };
export const ENGINE_DEAD = 'EngineCore encountered an issue. See stack trace (above) for the root cause.';

/** vLLM's random_uuid(): uuid4().hex (the dashes cut by position). */
export const hex32 = (): string => {
  const u = randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18) + u.slice(19, 23) + u.slice(24);
};
const nowS = () => Math.floor(Date.now() / 1000);

export interface StreamEnv {
  latency: LatencyModel | null;
  faults: FaultPlan;
  isDead: () => boolean;
  /** Stamp a system_fingerprint (vLLM: --fingerprint-mode; off by default). */
  fingerprint: boolean;
}

export type Outcome = 'stop' | 'length' | 'tool_calls' | 'abort' | 'error';

/** The SSE events of a plan, in order, without [DONE]. */
/** The simulator's stand-in for vLLM's system_fingerprint when enabled (its
 * real format was not verified at the source): fixed per served model. */
const fingerprint = (env: StreamEnv, model: string) => (env.fingerprint ? `fp_tce_sim_${createHash('sha1').update(model).digest('hex').slice(0, 10)}` : null);

export function planEvents(p: Plan, env: StreamEnv): string[] {
  const ids: ChunkIds = { id: `chatcmpl-${hex32()}`, created: nowS(), model: p.model.name, fingerprint: fingerprint(env, p.model.name) };
  const out = [roleChunk(ids)];
  for (const s of p.steps) out.push(deltaChunk(ids, s.delta, s.finish, p.req.includeUsage));
  if (p.req.includeUsage) out.push(usageChunk(ids, { promptTokens: p.promptTokens, completionTokens: p.completionTokens }));
  return out;
}

const midError = (msg: string) => errorEvent(new VllmError(500, 'InternalServerError', msg).body());

async function faultAt(res: http.ServerResponse, fault: Exclude<StreamFault, null>, env: StreamEnv): Promise<Outcome | null> {
  if (fault === 'drop') {
    // Let what was written reach the client first, then cut the connection.
    await new Promise<void>((r) => res.write('', () => r()));
    res.socket?.destroy();
    return 'abort';
  }
  if (fault === 'mid-error') {
    res.end(midError('Simulated mid-stream engine error.'));
    return 'error';
  }
  if (fault === 'garbage') res.write('data: {"id":"chatcmpl-garbage","choices":[{"delta":{"content":"\n\n');
  if (fault === 'stall') await sleep(env.faults.stallMs ?? 5000);
  return null;
}

/** Streams a plan; returns how the request ended (for /metrics). */
export async function writeStream(res: http.ServerResponse, p: Plan, fault: StreamFault, t0: number, env: StreamEnv): Promise<Outcome> {
  const evs = planEvents(p, env);
  const { latency } = env;
  const job = p.engineReq && p.model.engine ? p.model.engine.run(p.engineReq) : null;
  if (job) await job.first;
  if (!latency && !job && fault === null && !env.isDead()) {
    p.model.metrics.firstToken((performance.now() - t0) / 1000);
    res.writeHead(200, SSE_HEADERS);
    res.end(evs.join('') + DONE);
    return p.finish;
  }
  const release = latency ? await p.model.queue.admit(p.promptTokens + p.completionTokens) : () => {};
  let closed = false;
  res.on('close', () => { closed = true; release(); });
  try {
    if (latency) await sleep(((p.promptTokens - p.cachedTokens) / latency.prefillTokensPerS) * 1000 + p.imageMiss * latency.imageMs);
    res.writeHead(200, SSE_HEADERS);
    // The fault fires after the role chunk and the first delta.
    const at = Math.min(2, evs.length - 1);
    for (let i = 0; i < evs.length; i++) {
      // Each output is sent once its tokens are decoded; the first token's
      // time is the prefill above (the usage chunk follows at once).
      const decoded = i >= 1 && i <= p.steps.length ? p.steps[i - 1]!.tokens - (i === 1 ? 1 : 0) : 0;
      if (latency && decoded > 0) await sleep(latency.decodeMsPerToken * decoded);
      if (closed) return 'abort';
      // A dead engine fails streams in flight after their role chunk.
      if (env.isDead() && i >= 1) {
        res.end(midError(ENGINE_DEAD));
        return 'error';
      }
      if (i === at && fault !== null) {
        const ended = await faultAt(res, fault, env);
        if (ended) return ended;
      }
      // With the engine model the rest follows once the engine has generated it.
      if (job && i === 2) await job.done;
      res.write(evs[i]!);
      if (i === 1) p.model.metrics.firstToken((performance.now() - t0) / 1000);
    }
    res.end(DONE);
    return p.finish;
  } finally {
    release();
  }
}

/** Answers a plan with one JSON body (stream: false). */
export async function writeFull(res: http.ServerResponse, p: Plan, env: StreamEnv): Promise<Outcome> {
  const { latency } = env;
  const release = latency ? await p.model.queue.admit(p.promptTokens + p.completionTokens) : () => {};
  try {
    if (latency) await sleep(((p.promptTokens - p.cachedTokens) / latency.prefillTokensPerS) * 1000 + p.imageMiss * latency.imageMs + latency.decodeMsPerToken * p.completionTokens);
    if (p.engineReq && p.model.engine) await p.model.engine.run(p.engineReq).done;
    const ids: ChunkIds = { id: `chatcmpl-${hex32()}`, created: nowS(), model: p.model.name, fingerprint: fingerprint(env, p.model.name) };
    const calls = p.full.calls.map((c) => ({ ...c, id: `chatcmpl-tool-${hex32()}` }));
    res.writeHead(200, JSON_HEADERS);
    res.end(completionBody(ids, p.full.content, calls, p.full.finish, { promptTokens: p.promptTokens, completionTokens: p.completionTokens }));
  } finally {
    release();
  }
  return p.full.finish;
}
