// Runs one experiment (one condition at one verifier size) over its samples:
// admits samples while the endpoint has room, writes each finished sample to
// the Arrow run directory, and counts progress. A sample is done only once
// its rows are flushed to disk.
import { performance } from 'node:perf_hooks';
import type { GreedyPrediction, Sample } from '../domain/sample';
import type { RunWriter, SampleRecord } from '../store/rows';
import type { Condition } from '../protocol/conditions';
import type { LoopContext } from './tool-loop';
import { baselineRecord, predictSample, stagedSample, verifySample, type SampleJob } from './pipelines';
import type { EndpointLimiter } from './limiter';
import { ContextFailures } from './context-length';
import type { PromptSet } from './prompt-set';

export interface ExperimentProgress {
  experimentId: string;
  conditionId: string;
  role: string;
  total: number;
  done: number;
  /** Samples already on disk when this run started (resume). */
  resumed: number;
  failed: number;
  turns: number;
  toolCalls: number;
  startedAt: number;
  /** When this run first started / last finished one of its samples
   * (performance.now(), ms): the experiment's own wall time. */
  firstStartMs: number | null;
  lastEndMs: number | null;
}

export interface ExperimentTask {
  experimentId: string;
  condition: Condition;
  writer: RunWriter;
  /** Samples still to run (resume has removed what is on disk). */
  samples: Sample[];
  totalSamples: number;
  greedy: Map<number, GreedyPrediction>;
  prompts: PromptSet;
  /** Builds the per-sample loop context (null for the reused baseline). */
  context: ((s: Sample) => LoopContext) | null;
  limiter: EndpointLimiter | null;
  image: (s: Sample) => { url: string; sha: string | null };
  /** Run the predictor live instead of reusing the greedy baseline. */
  livePredict: boolean;
  progress: ExperimentProgress;
}

/** Once aborted, no new samples start (an AbortSignal is one). */
export interface StopSignal {
  readonly aborted: boolean;
}

// Flush by count under load, by time when samples trickle in, so a crash
// loses at most this much work.
const FLUSH_EVERY = 512;
const FLUSH_INTERVAL_MS = 1000;

function runOne(task: ExperimentTask, s: Sample): Promise<SampleRecord> {
  const c = task.condition;
  const img = task.image(s);
  // The baseline is the one condition without a verifier: the greedy
  // prediction reused, or the predictor run live.
  if (!c.verifier && !task.livePredict) return Promise.resolve(baselineRecord(task.experimentId, s, task.greedy.get(s.sampleId), img.sha));
  const job: SampleJob = { ctx: task.context!(s), condition: c, sample: s, greedy: task.greedy.get(s.sampleId), prompts: task.prompts, imageUrl: img.url, imageSha: img.sha };
  if (!c.verifier) return predictSample(job);
  return c.pipeline === 'B' ? stagedSample(job) : verifySample(job);
}

/**
 * Runs the samples of several experiments that share an endpoint, in the
 * order given (condition-major or sample-major), keeping at most `window`
 * samples open at once. Continuation turns get slots before first turns
 * (EndpointLimiter), so open samples finish first.
 */
export async function runTasks(items: Array<{ task: ExperimentTask; sample: Sample }>, window: () => number, stop: StopSignal): Promise<void> {
  let next = 0;
  let open = 0;
  const pendingFlush = new Set<ExperimentTask>();
  let sinceFlush = 0;
  let lastFlush = Date.now();
  let flushing: Promise<void> = Promise.resolve();

  const flushAll = (): Promise<void> => {
    const tasks = [...pendingFlush];
    pendingFlush.clear();
    sinceFlush = 0;
    lastFlush = Date.now();
    flushing = flushing.then(() => Promise.all(tasks.map((t) => t.writer.flush())).then(() => undefined));
    return flushing;
  };

  await new Promise<void>((resolveAll, rejectRun) => {
    // After a failure (a full disk, say) no new samples start, and the error
    // of a sample that finishes later is not left unhandled.
    let failed = false;
    const contextFailures = new ContextFailures();
    const rejectAll = (e: unknown): void => { failed = true; rejectRun(e); };
    const pump = (): void => {
      while (!failed && !stop.aborted && next < items.length && open < window()) {
        const { task, sample } = items[next++]!;
        open++;
        task.progress.firstStartMs ??= performance.now();
        runOne(task, sample).then((rec) => {
          task.progress.lastEndMs = performance.now();
          task.writer.append(rec);
          task.progress.done++;
          task.progress.turns += rec.turns.length;
          task.progress.toolCalls += rec.toolCalls.length;
          const st = rec.prediction.final_status;
          if (st === 'server_error' || st === 'timeout') task.progress.failed++;
          pendingFlush.add(task);
          try {
            contextFailures.note(rec.prediction.final_error);
          } catch (e) {
            // Too many prompts over the context: keep what finished, then stop.
            failed = true;
            void flushAll().then(() => rejectRun(e), rejectRun);
            return;
          }
          if (++sinceFlush >= FLUSH_EVERY || Date.now() - lastFlush >= FLUSH_INTERVAL_MS) void flushAll().catch(rejectAll);
        }).catch(rejectAll).finally(() => {
          open--;
          if (open === 0 && (stop.aborted || next >= items.length)) resolveAll();
          else pump();
        });
      }
      if (open === 0 && (stop.aborted || next >= items.length)) resolveAll();
    };
    pump();
  });
  await flushAll();
}
