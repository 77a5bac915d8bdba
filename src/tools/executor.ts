// The tool executor the driver calls with every batch of tool calls. Calls
// are checked here (zod), then run inline or in a piscina pool; a hung or
// crashed pooled tool costs its own call only, never the batch or the run.
import path from 'node:path';
import { Piscina } from 'piscina';
import { errorMessage } from '../util/errors';
import { checkCall, lostJobOutcome, runJob, type ToolJob } from './invoke';
import type { PoolTask, PoolWorkerData } from './pool-worker';
import { isBuiltinTool, loadToolSet } from './registry';
import type { ToolStats } from './stats';
import type { ToolExecutor, ToolInvocation, ToolOutcome } from './types';

export type ToolDispatch = 'auto' | 'inline' | 'pool';

export interface ToolExecutorOptions {
  stats: ToolStats;
  /** auto: built-in tools inline (bench/tools.bench.ts: a pool round trip
   * costs far more than a built-in tool call), other tools in the pool,
   * where a hang can be stopped. */
  dispatch?: ToolDispatch;
  /** Per call; a pooled batch gets this much in total before its calls are
   * retried one by one to find the slow one. */
  timeoutMs?: number;
  poolThreads?: number;
  /** Files each exporting `tool` (a ToolDef): custom tools. */
  extraModules?: readonly string[];
}

/** How long a pooled task may wait for a worker to begin it, beyond its own
 * deadline: generous, since a worker's start is slow only on a loaded
 * machine; it exists so that a worker that never starts (a custom tool module
 * that hangs while loading) cannot hang the run. */
const POOL_START_GRACE_MS = 30_000;

/** Resolves once another thread has set `flag[0]` (and notified). */
function whenSet(flag: Int32Array): Promise<unknown> {
  // Atomics.waitAsync is in Node >= 16 but in TypeScript's ES2024 lib only.
  const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } }).waitAsync;
  const w = waitAsync(flag, 0, 0);
  return w.async ? (w.value as Promise<unknown>) : Promise.resolve(w.value);
}

/** The piscina side of the executor: created on first use, one deadline per task. */
function createToolPool(opts: ToolExecutorOptions, extraModules: string[], timeoutMs: number, tools: ReturnType<typeof loadToolSet>) {
  let pool: Piscina<PoolTask, ToolOutcome[]> | null = null;
  let closed = false;

  const getPool = (): Piscina<PoolTask, ToolOutcome[]> => {
    if (!pool) {
      const workerData: PoolWorkerData = { stats: opts.stats, extraModules, timeoutMs };
      const threads = opts.poolThreads ?? 2;
      pool = new Piscina({ filename: path.join(__dirname, 'pool-worker.js'), minThreads: threads, maxThreads: threads, workerData });
    }
    return pool;
  };

  /** One pool task with a deadline; aborting a running task kills its worker (piscina). */
  const runPooled = async (jobs: ToolJob[], deadlineMs: number): Promise<ToolOutcome[]> => {
    const ac = new AbortController();
    // The deadline starts when a worker begins the task (pool-worker.ts sets
    // `started`), not when it is queued: starting a worker (loading the tool
    // modules, replacing a killed one) can take seconds on a loaded machine,
    // and counting it timed out fast tools. A queued task is never aborted by
    // this timer, so no call waits on a worker that an abort did not free;
    // only a pool that never starts a worker is cut, by the start backstop.
    const started = new Int32Array(new SharedArrayBuffer(4));
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const backstop = setTimeout(() => ac.abort(), deadlineMs + POOL_START_GRACE_MS);
    void whenSet(started).then(() => {
      clearTimeout(backstop);
      if (!settled) timer = setTimeout(() => ac.abort(), deadlineMs);
    });
    try {
      return await getPool().run({ jobs, started }, { signal: ac.signal });
    } catch (e) {
      if (ac.signal.aborted && Atomics.load(started, 0) === 0) throw new Error(`no pool worker was ready within ${deadlineMs + POOL_START_GRACE_MS} ms`);
      throw e;
    } finally {
      settled = true;
      clearTimeout(backstop);
      clearTimeout(timer);
      // Releases the waiter when the task ended without starting (failed worker start).
      Atomics.store(started, 0, 1);
      Atomics.notify(started, 0);
    }
  };

  const pooled = async (jobs: ToolJob[]): Promise<ToolOutcome[]> => {
    if (jobs.length === 0) return [];
    if (closed) return jobs.map((j) => lostJobOutcome(j, 'tool_failed', 'the tool executor is closed', tools));
    try {
      return await runPooled(jobs, timeoutMs);
    } catch {
      // Something in the batch hung or killed its worker: run the calls one
      // at a time so only the guilty ones fail. Sequential on purpose: a
      // queued call's timer must not run while another call hangs.
      const out: ToolOutcome[] = [];
      for (const job of jobs) {
        try {
          out.push(...(await runPooled([job], timeoutMs)));
        } catch (e) {
          const aborted = (e as Error).name === 'AbortError';
          out.push(lostJobOutcome(job, aborted ? 'timeout' : 'tool_failed', aborted ? `${job.name} did not answer within ${timeoutMs} ms` : `${job.name} failed: ${errorMessage(e)}`, tools));
        }
      }
      return out;
    }
  };

  const close = async (): Promise<void> => {
    closed = true;
    const p = pool;
    pool = null;
    if (p) await p.destroy();
  };
  return { pooled, close };
}

export function createToolExecutor(opts: ToolExecutorOptions): ToolExecutor {
  const dispatch = opts.dispatch ?? 'auto';
  const timeoutMs = opts.timeoutMs ?? 2000;
  const extraModules = (opts.extraModules ?? []).map((f) => path.resolve(f));
  if (!['auto', 'inline', 'pool'].includes(dispatch)) throw new TypeError(`createToolExecutor: dispatch must be 'auto', 'inline' or 'pool' (found ${String(dispatch)})`);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError(`createToolExecutor: timeoutMs must be a positive integer (found ${timeoutMs})`);
  const tools = loadToolSet(extraModules);
  const { pooled, close } = createToolPool(opts, extraModules, timeoutMs, tools);

  return {
    async executeBatch(calls: readonly ToolInvocation[]): Promise<ToolOutcome[]> {
      const results = new Array<ToolOutcome | undefined>(calls.length);
      const jobs: Array<ToolJob | undefined> = new Array(calls.length);
      try {
        const toPool: ToolJob[] = [];
        const poolIndex: number[] = [];
        const inline: Array<Promise<void>> = [];
        calls.forEach((call, i) => {
          const checked = checkCall(call, tools);
          if ('outcome' in checked) { results[i] = checked.outcome; return; }
          jobs[i] = checked.job;
          const usePool = dispatch === 'pool' || (dispatch === 'auto' && !isBuiltinTool(checked.job.name));
          if (usePool) { toPool.push(checked.job); poolIndex.push(i); } else inline.push(runJob(checked.job, tools, opts.stats, timeoutMs).then((o) => { results[i] = o; }));
        });
        const fromPool = await pooled(toPool);
        fromPool.forEach((o, j) => { results[poolIndex[j]!] = o; });
        await Promise.all(inline);
      } catch (e) {
        // Only a bug here gets this far; the driver still gets one outcome per call.
        calls.forEach((call, i) => {
          if (results[i]) return;
          const job = jobs[i] ?? { id: call.id, sampleId: call.sampleId, name: String(call.name), args: {} };
          results[i] = lostJobOutcome(job, 'tool_failed', `the tool executor failed: ${errorMessage(e)}`, tools);
        });
      }
      return results as ToolOutcome[];
    },
    close,
  };
}
