// The one place the driver gets its model servers from: the built-in
// simulator (synthetic), a pool of spawned `vllm serve`, or listed URLs.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema';
import { TceError } from '../util/errors';
import { scrapeMetrics } from './metrics-scrape';
import type { Simulator } from './sim/server';
import { prewarmSimulatorThread, startSimulatorThread } from './sim/thread-host';
import { DEFAULT_LATENCY } from './sim/latency';
import type { BackendSet, Endpoint, ModelRole, ServerMetrics } from './types';
import { VllmPool } from './vllm/pool';
import { checkFileModeConfig, mediaFolder } from '../config/media-folder';
import { predictorAnswerSpec } from '../protocol/predictor-answer';

export { scrapeMetrics } from './metrics-scrape';

export interface OpenOptions {
  runDir: string;
  roles: ModelRole[];
  log?: (line: string) => void;
}

function metricsOf(endpoints: BackendSet['endpoints'], replicas: BackendSet['replicas'] = {}) {
  return async (role: ModelRole) => {
    const list = replicas[role] ?? (endpoints[role] ? [endpoints[role]] : []);
    const all = await Promise.all(list.map((e) => scrapeMetrics(e.baseUrl, e.apiKey, e.model)));
    const seen = all.filter((m): m is ServerMetrics => m !== null);
    if (seen.length <= 1) return seen[0] ?? null;
    // Replicas: the role's queue is the sum of theirs (the limiter is per role).
    // The fullest KV cache decides whether the limit may still grow.
    const kv = seen.map((m) => m.kvCacheUsage).filter((v): v is number => v !== null);
    return { ...seen[0]!, waiting: seen.reduce((s, m) => s + m.waiting, 0), running: seen.reduce((s, m) => s + m.running, 0), kvCacheUsage: kv.length ? Math.max(...kv) : null };
  };
}

async function openSimulator(config: Config, opts: OpenOptions): Promise<BackendSet> {
  const endpoints: BackendSet['endpoints'] = {};
  const replicas: NonNullable<BackendSet['replicas']> = {};
  const sims: Simulator[] = [];
  const sc = config.backend.simulator;
  try {
    // One server per model and GPU, as vLLM runs one per GPU: each has its
    // own queue and /metrics (models.X.gpuIds: replicas).
    for (const role of opts.roles.flatMap((r) => (config.models[r].gpuIds ?? [0]).map(() => r))) {
      const m = config.models[role];
      const apiKey = `tce-sim-${randomBytes(8).toString('hex')}`;
      // Its own thread: the driver keeps the main thread (two cores busy).
      const sim = await startSimulatorThread({
        seed: config.seed,
        models: [{ servedModelName: m.servedModelName, profile: m.profile, root: m.path, ...(role === 'predictor' ? { answerFormat: predictorAnswerSpec(config.prompts.predictor) } : {}) }],
        latency: sc.latency ? { ...DEFAULT_LATENCY, maxRunning: Math.min(DEFAULT_LATENCY.maxRunning, config.backend.vllm.maxNumSeqs) } : false,
        streamInterval: config.backend.streamInterval,
        faults: sc.faults,
        serverParse: config.run.parseMode === 'server',
        apiKey,
        maxModelLen: config.backend.vllm.maxModelLen,
        ...(config.backend.vllm.limitMmPerPrompt.image !== undefined ? { maxImagesPerPrompt: config.backend.vllm.limitMmPerPrompt.image } : {}),
        // As strict as vLLM: file URLs only under the image folder's real path.
        ...(config.dataset.imageMode === 'file' ? { allowedLocalMediaPath: mediaFolder(config) } : {}),
      });
      sims.push(sim);
      const ep: Endpoint = { role, baseUrl: sim.baseUrl, apiKey, model: m.servedModelName };
      endpoints[role] ??= ep;
      (replicas[role] ??= []).push(ep);
      opts.log?.(`simulator (synthetic) for ${role}: profile ${m.profile} at ${sim.baseUrl}`);
    }
  } catch (e) {
    await Promise.all(sims.map((s) => s.close()));
    throw e;
  }
  return {
    kind: 'simulator', synthetic: true, endpoints, replicas,
    metrics: metricsOf(endpoints, replicas),
    close: async () => { await Promise.all(sims.map((s) => s.close())); },
  };
}

function openEndpoints(config: Config, opts: OpenOptions): BackendSet {
  const endpoints: BackendSet['endpoints'] = {};
  const replicas: NonNullable<BackendSet['replicas']> = {};
  config.backend.endpoints.forEach((e) => {
    // A role listed several times has replicas: turns are spread over them.
    const ep: Endpoint = { role: e.model, baseUrl: e.url.replace(/\/+$/, ''), apiKey: e.apiKey, model: e.servedModelName ?? config.models[e.model].servedModelName };
    if (e.maxInFlight !== undefined) ep.maxInFlight = e.maxInFlight;
    endpoints[e.model] ??= ep;
    (replicas[e.model] ??= []).push(ep);
  });
  const missing = opts.roles.filter((r) => !endpoints[r]);
  if (missing.length > 0) {
    throw new TceError('CONFIG_INVALID', `config: backend.endpoints has no entry for ${missing.join(', ')} (backend.kind is "endpoints")`, 'add {"model": "<role>", "url": "http://host:port/v1"} for each model the conditions use');
  }
  if (config.dataset.imageMode === 'file') {
    opts.log?.(`file image mode: each server must share this filesystem and run with --allowed-local-media-path ${mediaFolder(config)} (that exact path: vLLM does not resolve it)`);
  }
  for (const [role, list] of Object.entries(replicas)) if (list.length > 1) opts.log?.(`${role}: ${list.length} replicas (${list.map((x) => x.baseUrl).join(', ')}), least in-flight with conversation affinity`);
  return { kind: 'endpoints', synthetic: false, endpoints, replicas, metrics: metricsOf(endpoints, replicas), close: async () => {} };
}

async function openPool(config: Config, opts: OpenOptions): Promise<BackendSet> {
  checkFileModeConfig(config);
  const pool = new VllmPool(config, { runDir: opts.runDir, ...(opts.log ? { log: opts.log } : {}) });
  const endpoints: BackendSet['endpoints'] = {};
  const replicas: NonNullable<BackendSet['replicas']> = {};
  const refresh = () => {
    for (const r of Object.keys(endpoints) as ModelRole[]) delete endpoints[r];
    for (const r of Object.keys(replicas) as ModelRole[]) delete replicas[r];
    for (const r of opts.roles) {
      const e = pool.endpoint(r);
      if (e) endpoints[r] = e;
      // models.X.gpuIds: one server per GPU; the client spreads over them.
      const all = pool.replicas(r);
      if (all.length > 1) replicas[r] = all;
    }
  };
  const plan = pool.plan(opts.roles);
  if (plan.length > 1) opts.log?.(`models do not fit the GPUs at once; they load in ${plan.length} waves: ${plan.map((w) => w.join('+')).join(' then ')}`);
  await pool.ensure(plan[0] ?? []);
  refresh();
  return {
    kind: 'vllm', synthetic: false, endpoints, replicas,
    metrics: metricsOf(endpoints, replicas),
    async prepare(roles) {
      await pool.ensure(roles);
      refresh();
    },
    close: () => pool.close(),
  };
}

/** Starts what openBackends will need early, so that it loads while the
 * caller reads the dataset (the simulator thread and its tokenizer). */
export function prewarmBackends(config: Config): void {
  if (config.backend.kind === 'simulator') prewarmSimulatorThread();
}

export async function openBackends(config: Config, opts: OpenOptions): Promise<BackendSet> {
  switch (config.backend.kind) {
    case 'simulator': return openSimulator(config, opts);
    case 'endpoints': return openEndpoints(config, opts);
    case 'vllm': return openPool(config, opts);
  }
}
