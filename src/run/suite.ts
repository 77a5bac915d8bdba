// `tce run`: the plan end to end. Baseline and the oracle gate first (2B and
// 8B in parallel on their own servers), then the remaining conditions, every
// finished sample on disk as Arrow before it counts, then one bulk load into
// SQLite, the analysis and the reports.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/schema';
import { configHash } from '../config/load';
import type { Sample } from '../domain/sample';
import type { BackendSet, ModelRole } from '../backends/types';
import { openBackends } from '../backends/open';
import { createStreamEngine } from '../extract/engine';
import { loadExperimentData } from '../data/load';
import { imageDataUrl, imageSha256, materializeImages } from '../data/image-payload';
import { createToolExecutor } from '../tools/executor';
import { openAiTools, TOOL_NAMES } from '../tools/registry';
import { ensureToolStats } from './tool-stats';
import type { ToolExecutor, OracleTruth } from '../tools/types';
import { openRunWriter } from '../store/run-writer';
import { loadRuns } from '../store/bulk-load';
import { openDb } from '../store/db';
import type { ExperimentRow, RunWriter } from '../store/rows';
import { CONDITIONS, conditionById, experimentId, runTimestamp, type Condition } from './conditions';
import { EndpointLimiter } from './limiter';
import { FeedBatcher } from './feed-batcher';
import { NativeChatClient, OpenAIChatClient, type ChatClient, type RetryPolicy } from './turn';
import { ToolBatcher } from './tool-batcher';
import { runTasks, type ExperimentTask, type StopSignal } from './experiment';
import { Progress, type ProgressSource } from './progress';
import { decideGate, type GateDecision } from './gate';
import type { LoopContext } from './tool-loop';
import { TceError } from '../util/errors';

/** How long in-flight turns may take to finish after the first Ctrl-C. */
const INTERRUPT_GRACE_S = 30;

export interface Shard {
  index: number;
  count: number;
}

export interface SuiteOptions {
  config: Config;
  /** Condition ids to run; empty = all 11 (or config.conditions). */
  conditionIds: string[];
  limit?: number | undefined;
  shard?: Shard | undefined;
  resume: boolean;
  force: boolean;
  quiet: boolean;
  /** Run the predictor model instead of reusing the greedy baseline. */
  livePredict: boolean;
  /** Apply the oracle gate between the oracle and the other conditions. */
  gate: boolean;
  /** Bulk-load into the database at the end. */
  load: boolean;
  log: (line: string) => void;
}

export interface SuiteResult {
  timestamp: string;
  experimentIds: string[];
  runDirs: string[];
  gate: GateDecision | null;
  outcome: 'completed' | 'gated' | 'interrupted';
  synthetic: boolean;
  backend: string;
  wallSeconds: number;
  turns: number;
  toolCalls: number;
}

/** The parts of the config that change results: a resumed run must match. */
export function resultsConfig(c: Config, o: Pick<SuiteOptions, 'limit' | 'shard' | 'livePredict'>): unknown {
  return {
    seed: c.seed,
    dataset: c.dataset,
    models: c.models,
    backend: { kind: c.backend.kind, simulator: c.backend.simulator, endpoints: c.backend.endpoints.map((e) => ({ model: e.model, url: e.url, servedModelName: e.servedModelName })) },
    run: { maxTurns: c.run.maxTurns, maxTokens: c.run.maxTokens, temperatureVerify: c.run.temperatureVerify, temperaturePredict: c.run.temperaturePredict, parseMode: c.run.parseMode },
    tools: { crossFit: c.tools.crossFit },
    limit: o.limit ?? null,
    shard: o.shard ? `${o.shard.index}/${o.shard.count}` : null,
    livePredict: o.livePredict,
  };
}

export function selectSamples(samples: Sample[], limit?: number, shard?: Shard): Sample[] {
  let s = [...samples].sort((a, b) => a.sampleId - b.sampleId);
  if (limit !== undefined) s = s.slice(0, limit);
  if (shard) s = s.filter((_, i) => i % shard.count === shard.index);
  return s;
}

function selectedConditions(o: SuiteOptions): Condition[] {
  const ids = o.conditionIds.length ? o.conditionIds : o.config.conditions;
  return ids.length ? ids.map(conditionById) : [...CONDITIONS];
}

/** A suite's manifest: which configuration it runs and how it ended. The
 * experiments' own run directories say which samples are on disk. */
interface SuiteManifest {
  timestamp: string;
  config_hash: string;
  status: 'running' | SuiteResult['outcome'];
  conditions: string[];
}

function manifestPath(runsDir: string, timestamp: string): string {
  return path.join(runsDir, `_suite_${timestamp}.json`);
}

function writeManifest(runsDir: string, m: SuiteManifest): void {
  fs.mkdirSync(runsDir, { recursive: true });
  const f = manifestPath(runsDir, m.timestamp);
  fs.writeFileSync(`${f}.tmp`, JSON.stringify(m, null, 2));
  fs.renameSync(`${f}.tmp`, f);
}

/** The newest suite with the same config hash that did not finish (or,
 * with `finishedToo`, the newest one at all: resuming a finished suite
 * runs nothing and reloads it). */
function findResumable(runsDir: string, hash: string, finishedToo = false): string | null {
  if (!fs.existsSync(runsDir)) return null;
  let best: string | null = null;
  for (const f of fs.readdirSync(runsDir)) {
    const m = /^_suite_(\d{8}_\d{6})\.json$/.exec(f);
    if (!m) continue;
    try {
      const s = JSON.parse(fs.readFileSync(path.join(runsDir, f), 'utf8')) as SuiteManifest;
      if (s.config_hash !== hash || (!finishedToo && (s.status === 'completed' || s.status === 'gated'))) continue;
      if (best === null || m[1]! > best) best = m[1]!;
    } catch { /* unreadable: not resumable */ }
  }
  return best;
}

function oracleTruth(s: Sample): OracleTruth {
  return { scene: s.sceneGt, longAction: s.longActionGt, latAction: s.latActionGt, firstWaypoint: s.waypointsGt?.[0] ?? null };
}

interface RoleRuntime {
  role: ModelRole;
  client: ChatClient;
  limiter: EndpointLimiter;
  waiting: number | null;
}

export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const t0 = performance.now();
  const c = o.config;
  const conditions = selectedConditions(o);
  const data = await loadExperimentData(c, { log: o.log });
  const samples = selectSamples(data.samples, o.limit, o.shard);
  if (samples.length === 0) throw new TceError('NO_SAMPLES', 'no samples selected', 'check --limit / --shard and the dataset');
  const stats = await ensureToolStats(c, o.log);
  const hash = configHash(resultsConfig(c, o));
  const resumable = findResumable(c.paths.runsDir, hash) ?? (o.resume ? findResumable(c.paths.runsDir, hash, true) : null);
  if (o.resume && !resumable) o.log('resume: no suite with this configuration; starting a new one');
  const timestamp = resumable ?? runTimestamp();
  if (resumable) o.log(`resuming suite ${timestamp} (config ${hash})`);
  const manifest: SuiteManifest = { timestamp, config_hash: hash, status: 'running', conditions: conditions.map((x) => x.id) };
  writeManifest(c.paths.runsDir, manifest);

  const roles = new Set<ModelRole>();
  for (const cond of conditions) {
    if (cond.role) roles.add(cond.role);
    if (cond.name === 'baseline' && o.livePredict) roles.add('predictor');
  }
  const serverDir = path.join(c.paths.runsDir, `_servers_${timestamp}`);
  let backends: BackendSet | null = null;
  let executor: ToolExecutor | null = null;
  const runtimes = new Map<ModelRole, RoleRuntime>();
  const stop: StopSignal = { stopping: false };
  let sigints = 0;
  const onSigint = (): void => {
    sigints++;
    const flushAndExit = (why: string): void => {
      o.log(`${why}: flushing and exiting`);
      void Promise.all(writers.map((w) => w.writer?.flush().catch(() => undefined))).finally(() => process.exit(130));
    };
    if (sigints === 1) {
      stop.stopping = true;
      o.log(`interrupt: no new samples; letting in-flight turns finish (at most ${INTERRUPT_GRACE_S} s; Ctrl-C again to flush and exit now)`);
      setTimeout(() => flushAndExit('grace period over'), INTERRUPT_GRACE_S * 1000).unref();
    } else {
      flushAndExit('second interrupt');
    }
  };
  // Run directories are opened only when their phase starts, so a gated
  // suite leaves no empty experiments behind.
  const writers: Array<{ cond: Condition; id: string; writer: RunWriter | null; row: ExperimentRow; task: ExperimentTask | null }> = [];
  process.on('SIGINT', onSigint);
  const progress = new Progress(() => sources, o.quiet);
  let sources: ProgressSource[] = [];
  let metricsTimer: NodeJS.Timeout | null = null;
  try {
    backends = roles.size ? await openBackends(c, { runDir: serverDir, roles: [...roles], log: o.log }) : null;
    const synthetic = backends ? backends.synthetic : data.synthetic;
    const eng = createStreamEngine(c.run.clientMode === 'native' ? 'native' : 'typescript');
    const batcher = new FeedBatcher(eng);
    const exec = createToolExecutor({ stats, dispatch: c.tools.dispatch, timeoutMs: c.tools.timeoutMs });
    executor = exec;
    const tools = new ToolBatcher(exec);
    const retry: RetryPolicy = { max: c.retries.max, baseDelayMs: c.retries.baseDelayMs, maxDelayMs: c.retries.maxDelayMs, requestTimeoutMs: c.run.requestTimeoutS * 1000 };
    // One client and one limiter per model role, made when the role's server
    // is up (with waves, after prepare()); remade if its endpoint moved.
    const runtimeFor = (role: ModelRole): RoleRuntime => {
      const ep = backends?.endpoints[role];
      if (!ep) throw new TceError('NO_ENDPOINT', `no endpoint serves the ${role} model`, 'add it to backend.endpoints or use backend.kind "vllm"/"simulator"');
      const have = runtimes.get(role);
      if (have && have.client.endpoint.baseUrl === ep.baseUrl) return have;
      if (have) void have.client.close().catch(() => undefined);
      const cap = ep.maxInFlight ?? Infinity;
      const limiter = have?.limiter ?? new EndpointLimiter({ initial: Math.min(c.concurrency.initial, cap), min: c.concurrency.min, max: Math.min(c.concurrency.max, cap), targetWaiting: c.concurrency.adaptive ? c.concurrency.targetWaiting : null });
      const client: ChatClient = c.run.clientMode === 'native' ? new NativeChatClient(ep, eng, batcher, c.concurrency.max) : new OpenAIChatClient(ep);
      const rt = { role, client, limiter, waiting: null };
      runtimes.set(role, rt);
      return rt;
    };

    // Images: inline data URLs, or files the server may read.
    const fileUrls = c.dataset.imageMode === 'file' ? materializeImages(samples, path.join(c.backend.vllm.allowedLocalMediaPath ?? path.join(c.paths.experimentDir, 'media'), 'tce-images')) : null;
    const shaCache = new Map<number, string | null>();
    const image = (s: Sample): { url: string; sha: string | null } => {
      let sha = shaCache.get(s.sampleId);
      if (sha === undefined) {
        sha = s.image ? imageSha256(s) : null;
        shaCache.set(s.sampleId, sha);
      }
      const url = fileUrls?.get(s.sampleId) ?? (s.image ? imageDataUrl(s, c.dataset.imagePixelBudget !== undefined ? { pixelBudget: c.dataset.imagePixelBudget } : {}) : '');
      return { url, sha };
    };
    // Stored requests name an inline image by content hash and sample id,
    // never by its bytes (250k turns of base64 would be gigabytes).
    const imageRefFor = (s: Sample) => {
      const sha = image(s).sha;
      return (url: string) => (url.startsWith('data:') ? `sha256:${sha ?? 'none'}#sample=${s.sampleId}` : url);
    };

    // One writer per experiment; resume skips what is on disk.
    for (const cond of conditions) {
      const id = experimentId(cond, timestamp);
      const role = cond.role ?? (cond.name === 'baseline' && o.livePredict ? 'predictor' : null);
      const row: ExperimentRow = {
        experiment_id: id,
        description: `${cond.question}${synthetic ? ' [simulated model, synthetic data]' : ''}`,
        condition_name: cond.name,
        pipeline: cond.pipeline,
        predictor_model: cond.pipeline === 'A' ? c.models.predictor.path : null,
        verifier_model: cond.role ? c.models[cond.role].path : null,
        tools_enabled: JSON.stringify(cond.tools),
        temperature_predict: c.run.temperaturePredict,
        temperature_verify: c.run.temperatureVerify,
        seed: c.seed,
        total_samples: samples.length,
        status: 'running',
        verifier_size: cond.size,
        backend: role ? backends!.kind : cond.name === 'baseline' ? 'reused-greedy' : null,
        synthetic: synthetic ? 1 : 0,
        config_json: JSON.stringify(resultsConfig(c, o)),
        config_hash: hash,
        tool_stats_mode: stats.mode,
        tool_stats_sha256: stats.source?.sha256 ?? null,
        shard: o.shard ? `${o.shard.index}/${o.shard.count}` : null,
      };
      writers.push({ cond, id, writer: null, row, task: null });
    }

    const makeTask = (w: (typeof writers)[number]): ExperimentTask => {
      const writer = openRunWriter(c.paths.runsDir, w.row);
      w.writer = writer;
      const done = writer.doneSampleIds();
      const todo = samples.filter((s) => !done.has(s.sampleId));
      const role = w.cond.role ?? (w.cond.name === 'baseline' && o.livePredict ? 'predictor' : null);
      const rt = role ? runtimeFor(role) : null;
      const context = rt
        ? (s: Sample): LoopContext => ({
            experimentId: writer.experimentId,
            sampleId: s.sampleId,
            client: rt.client,
            limiter: rt.limiter,
            tools,
            retry,
            maxTurns: c.run.maxTurns,
            baseParams: { parseMode: c.run.parseMode, maxTokens: c.run.maxTokens, temperature: role === 'predictor' ? c.run.temperaturePredict : c.run.temperatureVerify, seed: c.seed },
            openAiTools,
            knownTools: TOOL_NAMES,
            oracle: w.cond.oracle ? oracleTruth(s) : undefined,
            imageRef: imageRefFor(s),
          })
        : null;
      const task: ExperimentTask = {
        experimentId: writer.experimentId,
        condition: w.cond,
        writer,
        samples: todo,
        totalSamples: samples.length,
        greedy: data.greedy,
        context,
        limiter: rt?.limiter ?? null,
        image,
        livePredict: o.livePredict,
        progress: { experimentId: writer.experimentId, conditionId: w.cond.id, role: role ?? 'reused', total: samples.length, done: samples.length - todo.length, resumed: samples.length - todo.length, failed: 0, turns: 0, toolCalls: 0, startedAt: performance.now(), firstStartMs: null, lastEndMs: null },
      };
      w.task = task;
      return task;
    };

    const phase = async (ws: typeof writers): Promise<void> => {
      // Models that do not fit on the GPUs at once load in waves.
      const phaseRoles = [...new Set(ws.flatMap((w) => (w.cond.role ? [w.cond.role] : w.cond.name === 'baseline' && o.livePredict ? ['predictor' as const] : [])))];
      if (backends?.prepare && phaseRoles.length) await backends.prepare(phaseRoles);
      const tasks = ws.map(makeTask);
      const groups = new Map<string, ExperimentTask[]>();
      for (const t of tasks) {
        const key = t.progress.role;
        groups.set(key, [...(groups.get(key) ?? []), t]);
      }
      sources = [...groups.entries()].map(([key, ts]) => ({
        label: key,
        experiments: () => ts.map((t) => t.progress),
        limiter: ts[0]!.limiter,
        serverWaiting: () => (key === 'reused' ? null : runtimes.get(key as ModelRole)?.waiting ?? null),
      }));
      progress.start();
      await Promise.all([...groups.entries()].map(async ([, ts]) => {
        const limiter = ts[0]!.limiter;
        const items = c.run.order === 'sample-major'
          ? sampleMajor(ts)
          : ts.flatMap((t) => t.samples.map((sample) => ({ task: t, sample })));
        await runTasks(items, () => (limiter ? limiter.limit * 2 : 4096), stop);
        for (const t of ts) {
          const w = writers.find((x) => x.writer === t.writer)!;
          const complete = t.progress.done >= t.progress.total;
          const p = t.progress;
          const wall = p.firstStartMs !== null && p.lastEndMs !== null ? (p.lastEndMs - p.firstStartMs) / 1000 : 0;
          await t.writer.finish({
            ...w.row,
            status: complete ? 'completed' : 'interrupted',
            total_wall_time_s: wall,
            verify_wall_time_s: t.condition.verifier ? wall : null,
            predict_wall_time_s: t.condition.name === 'baseline' ? wall : null,
            throughput_samples_per_s: wall > 0 ? t.samples.length / wall : null,
            finished_at: new Date().toISOString(),
          });
        }
      }));
      progress.stop();
    };

    metricsTimer = setInterval(() => {
      for (const rt of runtimes.values()) {
        void backends!.metrics(rt.role).then((m) => {
          rt.waiting = m?.waiting ?? null;
          rt.limiter.adapt(m);
        }, () => undefined);
      }
    }, 1000);
    metricsTimer.unref();

    const first = writers.filter((w) => w.cond.name === 'baseline' || w.cond.oracle);
    const rest = writers.filter((w) => !first.includes(w));
    await phase(first);
    let gate: GateDecision | null = null;
    let outcome: SuiteResult['outcome'] = stop.stopping ? 'interrupted' : 'completed';
    const oracleWriters = first.filter((w) => w.cond.oracle);
    if (!stop.stopping && o.gate && oracleWriters.length) {
      gate = decideGate(oracleWriters.map((w) => w.writer!.dir), c.gate.threshold, o.force);
      o.log(gate.summary);
      recordDecision(c.paths.db, gate, o.load);
      if (!gate.proceed) outcome = 'gated';
    }
    if (!stop.stopping && outcome === 'completed' && rest.length) await phase(rest);
    if (stop.stopping) outcome = 'interrupted';
    const runDirs = writers.flatMap((w) => (w.writer ? [w.writer.dir] : []));
    if (o.load) {
      const db = openDb(c.paths.db);
      try {
        loadRuns(db, runDirs, { log: o.log });
      } finally {
        db.close();
      }
    }
    writeManifest(c.paths.runsDir, { ...manifest, status: outcome });
    const turns = writers.reduce((a, w) => a + (w.task?.progress.turns ?? 0), 0);
    return {
      timestamp,
      experimentIds: writers.flatMap((w) => (w.writer ? [w.writer.experimentId] : [])),
      runDirs,
      gate,
      outcome,
      synthetic,
      backend: backends?.kind ?? 'reused-greedy',
      wallSeconds: (performance.now() - t0) / 1000,
      turns,
      toolCalls: writers.reduce((a, w) => a + (w.task?.progress.toolCalls ?? 0), 0),
    };
  } finally {
    if (metricsTimer) clearInterval(metricsTimer);
    progress.stop();
    process.off('SIGINT', onSigint);
    for (const rt of runtimes.values()) await rt.client.close().catch(() => undefined);
    if (executor) await executor.close().catch(() => undefined);
    if (backends) await backends.close().catch(() => undefined);
  }
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

function recordDecision(dbFile: string, gate: GateDecision, enabled: boolean): void {
  if (!enabled) return;
  const db = openDb(dbFile);
  try {
    db.prepare('INSERT INTO run_decisions (kind, decision, details_json) VALUES (?, ?, ?)').run('oracle_gate', gate.proceed ? (gate.forced ? 'proceed_forced' : 'proceed') : 'stop', JSON.stringify(gate));
  } finally {
    db.close();
  }
}

