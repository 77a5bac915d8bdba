// One phase of a suite (the baseline and the oracle first, the rest after
// the gate): open the phase's run directories, bring up its models, run its
// experiments grouped by model role (2B and 8B in parallel), and record each
// experiment's final row.
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/schema';
import type { GreedyPrediction, Sample } from '../domain/sample';
import type { BackendSet, ModelRole } from '../backends/types';
import { openAiTools } from '../tools/registry';
import { TOOL_NAMES } from '../protocol/tools';
import type { OracleTruth } from '../tools/types';
import { openRunWriter } from '../store/run-writer';
import type { ExperimentRow, RunWriter } from '../store/rows';
import type { LoadThread } from '../store/load-thread';
import type { Condition } from '../protocol/conditions';
import { runTasks, type ExperimentTask } from './experiment';
import { finishedExperimentRow, modelRole, modelRoles } from './experiment-row';
import type { ProgressSource } from './progress';
import type { RoleRuntime, RoleRuntimes } from './role-runtimes';
import type { SuiteImages } from './suite-images';
import type { ToolBatcher } from './tool-batcher';
import type { LoopContext } from './tool-loop';
import type { RetryPolicy } from './turn';
import type { PromptSet } from './prompt-set';

/** One experiment of the suite; its run directory is opened only when its
 * phase starts, so a gated suite leaves no empty experiments behind. */
export interface PlannedExperiment {
  cond: Condition;
  row: ExperimentRow;
  writer: RunWriter | null;
  task: ExperimentTask | null;
}

export interface PhaseContext {
  config: Config;
  samples: Sample[];
  /** The predictions Pipeline A verifies (greedy, or a live baseline's). */
  greedy: Map<number, GreedyPrediction>;
  prompts: PromptSet;
  /** This node's share, i/n (null: unsharded): names its run directories. */
  shard: string | null;
  livePredict: boolean;
  backends: BackendSet | null;
  runtimes: RoleRuntimes;
  tools: ToolBatcher;
  images: SuiteImages;
  /** Shows the phase's progress until it ends. */
  progress: { show(sources: ProgressSource[]): void; stop(): void };
  /** Set once no new samples may start. */
  stop: { readonly aborted: boolean };
  /** The load beside the run: each committed batch goes to it, each phase
   * is one of its transactions (null: the suite loads at its end, or not). */
  load: LoadThread | null;
}

function oracleTruth(s: Sample): OracleTruth {
  return { scene: s.sceneGt, longAction: s.longActionGt, latAction: s.latActionGt, firstWaypoint: s.waypointsGt?.[0] ?? null };
}

function retryPolicy(c: Config): RetryPolicy {
  return { max: c.retries.max, baseDelayMs: c.retries.baseDelayMs, maxDelayMs: c.retries.maxDelayMs, requestTimeoutMs: c.run.requestTimeoutS * 1000 };
}

/** The OpenAI tools array per tool set, built once per phase rather than
 * once per sample (zod to JSON Schema costs ~50 µs); the shared array also
 * keys the request tails of request-body.ts. */
function toolSchemas(): (names: readonly string[]) => object[] {
  const memo = new Map<string, object[]>();
  return (names) => {
    const key = names.join('\u0000');
    let tools = memo.get(key);
    if (!tools) {
      tools = openAiTools(names);
      memo.set(key, tools);
    }
    return tools;
  };
}

function loopContexts(ctx: PhaseContext, cond: Condition, experimentId: string, rt: RoleRuntime): (s: Sample) => LoopContext {
  const c = ctx.config;
  const retry = retryPolicy(c);
  const temperature = rt.role === 'predictor' ? c.run.temperaturePredict : c.run.temperatureVerify;
  const schemas = toolSchemas();
  // One object for the condition: the tool loop keys its TurnParams by it.
  const baseParams = { parseMode: c.run.parseMode, maxTokens: c.run.maxTokens, temperature, seed: c.seed };
  return (s) => ({
    experimentId,
    sampleId: s.sampleId,
    client: rt.client,
    limiter: rt.limiter,
    tools: ctx.tools,
    retry,
    maxTurns: c.run.maxTurns,
    baseParams,
    openAiTools: schemas,
    knownTools: TOOL_NAMES,
    oracle: cond.oracle ? oracleTruth(s) : undefined,
    imageRef: ctx.images.imageRef(s),
  });
}

/** Opens the experiment's run directory; resume skips what is on disk. */
function openTask(ctx: PhaseContext, w: PlannedExperiment): ExperimentTask {
  const total = ctx.samples.length;
  const id = String(w.row['experiment_id']);
  const load = ctx.load;
  const onCommit = load ? (batch: number) => load.post({ op: 'batch', id, batch }) : undefined;
  const writer = openRunWriter(ctx.config.paths.runsDir, w.row, { flushRows: ctx.config.run.flushSamples, onCommit, ...(ctx.shard ? { dirName: `${id}.shard-${ctx.shard.replace('/', '-of-')}` } : {}) });
  w.writer = writer;
  load?.post({ op: 'open', id, dir: writer.dir, fresh: writer.freshDir ?? false });
  const done = writer.doneSampleIds();
  const todo = ctx.samples.filter((s) => !done.has(s.sampleId));
  const role = modelRole(w.cond, ctx.livePredict);
  const rt = role ? ctx.runtimes.get(role) : null;
  const task: ExperimentTask = {
    experimentId: writer.experimentId,
    condition: w.cond,
    writer,
    samples: todo,
    totalSamples: total,
    greedy: ctx.greedy,
    prompts: ctx.prompts,
    context: rt ? loopContexts(ctx, w.cond, writer.experimentId, rt) : null,
    limiter: rt?.limiter ?? null,
    image: (s) => ctx.images.image(s),
    livePredict: ctx.livePredict,
    progress: { experimentId: writer.experimentId, conditionId: w.cond.id, role: role ?? 'reused', total, done: total - todo.length, resumed: total - todo.length, failed: 0, turns: 0, toolCalls: 0, startedAt: performance.now(), firstStartMs: null, lastEndMs: null },
  };
  w.task = task;
  return task;
}

/** Sample-major order: one sample's conditions back to back, so the server
 * sees the same image in a row (its image and prefix caches hit). */
function sampleMajor(ts: ExperimentTask[]): Array<{ task: ExperimentTask; sample: Sample }> {
  const ids = new Set<number>();
  for (const t of ts) for (const s of t.samples) ids.add(s.sampleId);
  const bySample = new Map<number, Array<{ task: ExperimentTask; sample: Sample }>>();
  for (const t of ts) for (const s of t.samples) bySample.set(s.sampleId, [...(bySample.get(s.sampleId) ?? []), { task: t, sample: s }]);
  return [...ids].sort((a, b) => a - b).flatMap((id) => bySample.get(id)!);
}

/** Runs one role's experiments to the end (or the stop) and records each
 * experiment's final row. */
async function runGroup(ctx: PhaseContext, group: PlannedExperiment[]): Promise<void> {
  const ts = group.map((w) => w.task!);
  const limiter = ts[0]!.limiter;
  const items = ctx.config.run.order === 'sample-major'
    ? sampleMajor(ts)
    : ts.flatMap((t) => t.samples.map((sample) => ({ task: t, sample })));
  await runTasks(items, () => (limiter ? limiter.limit * 2 : 4096), ctx.stop);
  for (const w of group) {
    const t = w.task!;
    await t.writer.finish(finishedExperimentRow(w.row, t.condition, t.progress, t.samples.length));
    ctx.load?.post({ op: 'finish', id: t.experimentId });
  }
}

export async function runPhase(ctx: PhaseContext, ws: PlannedExperiment[]): Promise<void> {
  // Models that do not fit on the GPUs at once load in waves.
  const phaseRoles = modelRoles(ws.map((w) => w.cond), ctx.livePredict);
  if (ctx.backends?.prepare && phaseRoles.length) await ctx.backends.prepare(phaseRoles);
  ctx.load?.post({ op: 'begin' });
  for (const w of ws) openTask(ctx, w);
  const groups = new Map<string, PlannedExperiment[]>();
  for (const w of ws) {
    const key = w.task!.progress.role;
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }
  ctx.progress.show([...groups.entries()].map(([key, g]) => ({
    label: key,
    experiments: () => g.map((w) => w.task!.progress),
    limiter: g[0]!.task!.limiter,
    serverWaiting: () => (key === 'reused' ? null : ctx.runtimes.waiting(key as ModelRole)),
  })));
  await Promise.all([...groups.values()].map((g) => runGroup(ctx, g)));
  // Committed in the load's thread once it has taken every batch; the
  // next phase starts meanwhile.
  ctx.load?.post({ op: 'commit' });
  ctx.progress.stop();
}
