// `tce run`: the plan end to end. Baseline and the oracle gate first (2B and
// 8B in parallel on their own servers), then the remaining conditions, every
// finished sample on disk as Arrow before it counts; the bulk load into
// SQLite takes each batch while the suite runs (a big suite: load-thread.ts)
// or everything at its end. The parts live beside this file: the manifest (resume), the
// experiment rows, the per-role runtimes, the images and the phases. The
// caller owns signals and exit codes: it stops the suite through
// `signal` / `abandon`.
import { preflightModels } from './model-preflight';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigSchema, type Config } from '../config/schema';
import { resultsView } from '../config/effects';
import { configHash } from '../config/load';
import type { Sample } from '../domain/sample';
import type { BackendSet } from '../backends/types';
import { openBackends, prewarmBackends } from '../backends/open';
import { createStreamEngine } from '../extract/engine';
import { loadExperimentData } from '../data/load';
import { createToolExecutor } from '../tools/executor';
import type { ToolExecutor } from '../tools/types';
import type { ToolStats } from '../tools/stats';
import { ensureToolStats } from './tool-stats';
import { loadRuns } from '../store/bulk-load';
import { LoadThread } from '../store/load-thread';
import { openDb } from '../store/db';
import { refuseTakenExperimentIds } from '../store/preflight';
import { BASELINE, CONDITIONS, conditionById, experimentId, type Condition } from '../protocol/conditions';
import { ToolBatcher } from './tool-batcher';
import { Progress, type ProgressSource } from './progress';
import { decideGate, type GateDecision } from './gate';
import { openSuiteManifest, type SuiteManifestStore, type SuiteOutcome } from './suite-manifest';
import { experimentRow, modelRoles } from './experiment-row';
import { RoleRuntimes } from './role-runtimes';
import { SuiteImages } from './suite-images';
import { runPhase, type PhaseContext, type PlannedExperiment } from './suite-phase';
import { TceError } from '../util/errors';
import { stripCredentialsDeep } from '../util/text';
import { predictionsFromDb, predictionsFromRunDir, requireCoverage, type PredictionSource } from './verified-predictions';
import { loadPromptSet, type PromptSet } from './prompt-set';
import { chooseSuiteId } from './suite-id';
import { encodeRanges } from '../util/sample-ranges';

export interface Shard {
  index: number;
  count: number;
}

export interface SuiteOptions {
  config: Config;
  /** Condition ids to run; empty = config.conditions, else all 13 (11 with run.controls false). */
  conditionIds: string[];
  limit?: number | undefined;
  shard?: Shard | undefined;
  /** The suite id all shards share (suite-id.ts for the default). */
  suite?: string | undefined;
  resume: boolean;
  force: boolean;
  quiet: boolean;
  /** Run the predictor model instead of reusing the greedy baseline. */
  livePredict: boolean;
  /** What Pipeline A verifies when the suite runs no baseline: 'greedy',
   * a live baseline's experiment id, or undefined = the newest live baseline
   * in the database, else the greedy predictions (verified-predictions.ts). */
  predictions?: string | undefined;
  /** Apply the oracle gate between the oracle and the other conditions. */
  gate: boolean;
  /** Bulk-load into the database (while the suite runs, or at its end). */
  load: boolean;
  /** Load each committed batch while the suite runs (load-thread.ts);
   * undefined: when the suite is big enough to gain (LOAD_WHILE_RUNNING_MIN). */
  loadWhileRunning?: boolean | undefined;
  log: (line: string) => void;
  /** Once aborted, no new samples start; in-flight turns finish, everything
   * is flushed and the suite ends 'interrupted'. */
  signal?: AbortSignal | undefined;
  /** Once aborted, in-flight turns are no longer waited for: what is done
   * is flushed to disk and runSuite rejects with SuiteAbandoned. Requests
   * may still be open then, so the caller should exit. */
  abandon?: AbortSignal | undefined;
}

export interface SuiteResult {
  timestamp: string;
  experimentIds: string[];
  runDirs: string[];
  gate: GateDecision | null;
  outcome: SuiteOutcome;
  synthetic: boolean;
  backend: string;
  wallSeconds: number;
  turns: number;
  toolCalls: number;
}

/** runSuite gave up on in-flight turns (`abandon`); finished samples are on disk. */
export class SuiteAbandoned extends TceError {
  constructor() {
    super('SUITE_ABANDONED', 'the suite was abandoned: finished samples are flushed, in-flight ones are lost', 'resume with the same command');
  }
}

/** The parts of the config that change results (as marked in the schema)
 * and of the run's selection: a resumed suite must match them. */
export function resultsConfig(c: Config, o: Pick<SuiteOptions, 'limit' | 'livePredict'>, verified: PredictionSource = 'greedy', prompts?: PromptSet): unknown {
  // Stored in experiments.config_json and the Arrow files: no URL passwords.
  return {
    ...stripCredentialsDeep(resultsView(ConfigSchema, c)),
    verified,
    predictorTemplateSha256: prompts?.predictTemplateSha ?? null,
    // The shard is not here: every shard of a suite has the same config.
    limit: o.limit ?? null,
    livePredict: o.livePredict,
  };
}

const shardText = (s: Shard | undefined): string | null => (s ? `${s.index}/${s.count}` : null);

/** The `limit` smallest sample ids, then every `count`-th of those from `index` on. */
export function selectSamples<T extends Pick<Sample, 'sampleId'>>(samples: readonly T[], limit?: number, shard?: Shard): T[] {
  let s = [...samples].sort((a, b) => a.sampleId - b.sampleId);
  if (limit !== undefined) s = s.slice(0, limit);
  if (shard) s = s.filter((_, i) => i % shard.count === shard.index);
  return s;
}

/** selectSamples on bare ids, so the loader decodes only the chosen samples. */
function selectIds(ids: readonly number[], limit?: number, shard?: Shard): number[] {
  return selectSamples(ids.map((sampleId) => ({ sampleId })), limit, shard).map((s) => s.sampleId);
}

/** Named conditions, or all of them (controls unless run.controls is false). */
function selectedConditions(o: SuiteOptions): Condition[] {
  const ids = o.conditionIds.length ? o.conditionIds : o.config.conditions;
  return ids.length ? ids.map(conditionById) : CONDITIONS.filter((c) => !c.control || o.config.run.controls);
}

/** Samples × experiments from which the suite loads while it runs: below
 * it the load thread's start (~0.2 s of CPU) costs about what it saves. */
export const LOAD_WHILE_RUNNING_MIN = 5_000;

/** What the suite holds open while it runs; closed in reverse. */
class SuiteResources {
  backends: BackendSet | null = null;
  executor: ToolExecutor | null = null;
  runtimes: RoleRuntimes | null = null;
  /** Set while it may hold an open phase: closing rolls that back. */
  load: LoadThread | null = null;

  async close(): Promise<void> {
    await this.load?.abort();
    await this.runtimes?.close();
    if (this.executor) await this.executor.close().catch(() => undefined);
    if (this.backends) await this.backends.close().catch(() => undefined);
  }
}

/** Everything fixed before the first sample runs. */
interface SuitePlan {
  o: SuiteOptions;
  conditions: Condition[];
  samples: Sample[];
  /** The whole suite's selection before sharding (ranges). */
  suiteSamples: string;
  greedy: PhaseContext['greedy'];
  /** What Pipeline A verifies (and flips count against). */
  verified: PredictionSource;
  prompts: PromptSet;
  dataSynthetic: boolean;
  stats: ToolStats;
  hash: string;
  timestamp: string;
  manifest: SuiteManifestStore;
}

async function openPhaseContext(p: SuitePlan, res: SuiteResources, stop: PhaseContext['stop'], progress: PhaseContext['progress']): Promise<PhaseContext> {
  const c = p.o.config;
  const roles = modelRoles(p.conditions, p.o.livePredict);
  const serverDir = path.join(c.paths.runsDir, `_servers_${p.timestamp}`);
  res.backends = roles.length ? await openBackends(c, { runDir: serverDir, roles, log: p.o.log }) : null;
  res.runtimes = new RoleRuntimes(res.backends, c, createStreamEngine(c.run.clientMode === 'native' ? 'native' : 'typescript'));
  res.executor = createToolExecutor({ stats: p.stats, dispatch: c.tools.dispatch, timeoutMs: c.tools.timeoutMs });
  const images = new SuiteImages(p.samples, c);
  // One request per model before any sample: a server that cannot take the
  // run's requests fails it now, not sample by sample.
  if (res.backends) await preflightModels(c, roles, res.runtimes, p.samples[0], p.greedy, images);
  return { config: c, samples: p.samples, greedy: p.greedy, prompts: p.prompts, shard: shardText(p.o.shard), livePredict: p.o.livePredict, backends: res.backends, runtimes: res.runtimes, tools: new ToolBatcher(res.executor), images, progress, stop, load: res.load };
}

function planExperiments(p: SuitePlan, backends: BackendSet | null, synthetic: boolean): PlannedExperiment[] {
  const o = p.o;
  const shard = shardText(o.shard);
  const facts = { config: o.config, livePredict: o.livePredict, synthetic, backendKind: backends?.kind ?? null, totalSamples: p.samples.length, configJson: JSON.stringify(resultsConfig(o.config, o, p.verified, p.prompts)), configHash: p.hash, stats: p.stats, shard, suiteId: p.timestamp, suiteSamples: p.suiteSamples };
  return p.conditions.map((cond) => ({ cond, row: experimentRow(cond, experimentId(cond, p.timestamp), facts), writer: null, task: null }));
}

/** The baseline and the oracle, the gate, then the rest. */
async function runPhases(p: SuitePlan, ctx: PhaseContext, planned: PlannedExperiment[]): Promise<{ outcome: SuiteOutcome; gate: GateDecision | null }> {
  const o = p.o;
  let first = planned.filter((w) => w.cond.name === BASELINE || w.cond.oracle);
  const rest = planned.filter((w) => !first.includes(w));
  if (p.verified === 'live') first = await runLiveBaseline(ctx, first);
  if (first.length) await runPhase(ctx, first);
  let gate: GateDecision | null = null;
  let outcome: SuiteOutcome = ctx.stop.aborted ? 'interrupted' : 'completed';
  const oracles = first.filter((w) => w.cond.oracle);
  if (!ctx.stop.aborted && o.gate && oracles.length) {
    gate = decideGate(oracles.map((w) => w.writer!.dir), o.config.gate.threshold, o.force, o.config.run.maxFailedShare);
    o.log(gate.summary);
    recordDecision(o.config.paths.db, gate, o.load, ctx.load);
    if (!gate.proceed) outcome = 'gated';
  }
  if (!ctx.stop.aborted && outcome === 'completed' && rest.length) await runPhase(ctx, rest);
  if (ctx.stop.aborted) outcome = 'interrupted';
  return { outcome, gate };
}

/** A live baseline runs before anything that verifies it; the verifiers
 * then see its predictions. Returns the rest of the first phase. */
async function runLiveBaseline(ctx: PhaseContext, first: PlannedExperiment[]): Promise<PlannedExperiment[]> {
  const base = first.find((w) => w.cond.name === 'baseline');
  if (!base) return first;
  await runPhase(ctx, [base]);
  ctx.greedy = predictionsFromRunDir(base.writer!.dir);
  return first.filter((w) => w !== base);
}

/** What the suite's Pipeline A verifies (verified-predictions.ts). */
function chooseVerified(o: SuiteOptions, conditions: Condition[], samples: Sample[], greedy: PhaseContext['greedy']): { verified: PredictionSource; predictions: PhaseContext['greedy'] } {
  if (conditions.some((x) => x.name === 'baseline')) return { verified: o.livePredict ? 'live' : 'greedy', predictions: greedy };
  if (o.predictions === 'greedy' || !conditions.some((x) => x.verifier)) return { verified: 'greedy', predictions: greedy };
  const live = predictionsFromDb(o.config.paths.db, o.predictions ?? null);
  if (!live) return { verified: 'greedy', predictions: greedy };
  requireCoverage(`live baseline ${live.experimentId}`, live.predictions, samples);
  o.log(`verifying the live predictions of ${live.experimentId} (--predictions greedy for the greedy ones)`);
  return { verified: `live:${live.experimentId}`, predictions: live.predictions };
}

async function plan(o: SuiteOptions): Promise<SuitePlan> {
  const c = o.config;
  const conditions = selectedConditions(o);
  let selection: number[] = [];
  const pick = (ids: readonly number[]): Set<number> => {
    selection = selectIds(ids, o.limit);
    return new Set(selectIds(selection, undefined, o.shard));
  };
  const data = await loadExperimentData(c, { log: o.log, pick });
  const samples = selectSamples(data.samples);
  if (samples.length === 0) throw new TceError('NO_SAMPLES', 'no samples selected', 'check --limit / --shard and the dataset');
  const stats = await ensureToolStats(c, o.log);
  const { verified, predictions } = chooseVerified(o, conditions, samples, data.greedy);
  const prompts = loadPromptSet(c);
  const hash = configHash(resultsConfig(c, o, verified, prompts));
  const suiteId = chooseSuiteId({ suite: o.suite, sharded: o.shard !== undefined, hash, env: process.env });
  // W5: ids the database holds with another config are refused now, not at the load after the run.
  const claim = o.load ? (id: string): void => refuseTakenExperimentIds(c.paths.db, conditions.map((x) => experimentId(x, id)), hash) : undefined;
  const manifest = openSuiteManifest(c.paths.runsDir, { hash, resume: o.resume, conditionIds: conditions.map((x) => x.id), log: o.log, suiteId, shard: shardText(o.shard), claim });
  return { o, conditions, samples, suiteSamples: encodeRanges(selection), greedy: predictions, verified, prompts, dataSynthetic: data.synthetic, stats, hash, timestamp: manifest.timestamp, manifest };
}

/** Rejects with SuiteAbandoned once `abandon` fires, after flushing what the
 * open experiments have finished. */
function abandoned(abandon: AbortSignal | undefined, planned: PlannedExperiment[]): { promise: Promise<never>; fired: () => boolean } | null {
  if (!abandon) return null;
  let fired = false;
  const promise = new Promise<never>((_, reject) => {
    const flushAndReject = (): void => {
      fired = true;
      void Promise.all(planned.map((w) => w.writer?.flush().catch(() => undefined))).finally(() => reject(new SuiteAbandoned()));
    };
    if (abandon.aborted) flushAndReject();
    else abandon.addEventListener('abort', flushAndReject, { once: true });
  });
  return { promise, fired: () => fired };
}

async function loadIntoDb(o: SuiteOptions, runDirs: string[], res: SuiteResources): Promise<void> {
  if (!o.load) return;
  if (res.load) {
    await res.load.end();
    res.load = null;
    return;
  }
  const db = openDb(o.config.paths.db);
  try {
    loadRuns(db, runDirs, { log: o.log });
  } finally {
    db.close();
  }
}

async function runPlan(p: SuitePlan, ctx: PhaseContext, res: SuiteResources, synthetic: boolean, planned: PlannedExperiment[], t0: number): Promise<SuiteResult> {
  const { outcome, gate } = await runPhases(p, ctx, planned);
  const runDirs = planned.flatMap((w) => (w.writer ? [w.writer.dir] : []));
  await loadIntoDb(p.o, runDirs, res);
  p.manifest.finish(outcome);
  return {
    timestamp: p.timestamp,
    experimentIds: planned.flatMap((w) => (w.writer ? [w.writer.experimentId] : [])),
    runDirs,
    gate,
    outcome,
    synthetic,
    backend: ctx.backends?.kind ?? 'reused-greedy',
    wallSeconds: (performance.now() - t0) / 1000,
    turns: planned.reduce((a, w) => a + (w.task?.progress.turns ?? 0), 0),
    toolCalls: planned.reduce((a, w) => a + (w.task?.progress.toolCalls ?? 0), 0),
  };
}

export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const t0 = performance.now();
  // The simulator thread loads while the dataset does.
  if (modelRoles(selectedConditions(o), o.livePredict).length) prewarmBackends(o.config);
  const p = await plan(o);
  // A failed load stops the suite: its error is what the suite ends with.
  const loadFailed = new AbortController();
  const stop = AbortSignal.any([o.signal, o.abandon, loadFailed.signal].filter((s): s is AbortSignal => s !== undefined));
  let sources: ProgressSource[] = [];
  const progress = new Progress(() => sources, o.quiet);
  const show = { show: (s: ProgressSource[]) => { sources = s; progress.start(); }, stop: () => progress.stop() };
  const res = new SuiteResources();
  const planned: PlannedExperiment[] = [];
  const gaveUp = abandoned(o.abandon, planned);
  if (loadsWhileRunning(o, p)) res.load = new LoadThread(o.config.paths.db, o.log, () => loadFailed.abort());
  const run = (async () => {
    const ctx = await openPhaseContext(p, res, stop, show);
    // Synthetic when the models are simulated OR the data is synthetic.
    const synthetic = (ctx.backends?.synthetic ?? false) || p.dataSynthetic;
    planned.push(...planExperiments(p, ctx.backends, synthetic));
    ctx.runtimes.startMetrics();
    return runPlan(p, ctx, res, synthetic, planned, t0);
  })();
  try {
    return await (gaveUp ? Promise.race([run, gaveUp.promise]) : run);
  } finally {
    progress.stop();
    // Abandoned: in-flight turns would hold the close up; it follows them.
    if (gaveUp?.fired()) void run.catch(() => undefined).finally(() => res.close());
    else await res.close();
  }
}

function loadsWhileRunning(o: SuiteOptions, p: SuitePlan): boolean {
  return o.load && (o.loadWhileRunning ?? p.samples.length * p.conditions.length >= LOAD_WHILE_RUNNING_MIN);
}

/** With a load thread, the decision is written by it, after the first phase's commit. */
function recordDecision(dbFile: string, gate: GateDecision, enabled: boolean, load: LoadThread | null): void {
  if (!enabled) return;
  const row = { kind: 'oracle_gate', decision: !gate.judged ? 'not_judged' : gate.proceed ? (gate.forced ? 'proceed_forced' : 'proceed') : 'stop', details: JSON.stringify(gate) };
  if (load) return load.post({ op: 'decision', ...row });
  const db = openDb(dbFile);
  try {
    db.prepare('INSERT INTO run_decisions (kind, decision, details_json) VALUES (?, ?, ?)').run(row.kind, row.decision, row.details);
  } finally {
    db.close();
  }
}
