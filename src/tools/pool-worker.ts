// Piscina worker: runs checked tool jobs, a whole batch per task, so one
// thread round trip (~40 µs) is paid per batch instead of per call.
import { workerData } from 'piscina';
import { loadToolSet } from './registry';
import { runJob, type ToolJob } from './invoke';
import type { ToolStats } from './stats';
import type { ToolOutcome } from './types';

export interface PoolWorkerData {
  stats: ToolStats;
  extraModules: string[];
  timeoutMs: number;
}

export interface PoolTask {
  jobs: ToolJob[];
  /** Set to 1 (and notified) when this worker begins the task: the executor
   * starts the task's deadline then (executor.ts). */
  started?: Int32Array;
}

const data = workerData as PoolWorkerData;
const tools = loadToolSet(data.extraModules);

export default async function runBatch(task: PoolTask): Promise<ToolOutcome[]> {
  if (task.started) { Atomics.store(task.started, 0, 1); Atomics.notify(task.started, 0); }
  const out: ToolOutcome[] = [];
  for (const job of task.jobs) out.push(await runJob(job, tools, data.stats, data.timeoutMs));
  return out;
}
