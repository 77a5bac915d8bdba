// The built-in simulator: an HTTP server on 127.0.0.1 that answers like a
// vLLM OpenAI server (framing, chunk shapes, errors, /health, /metrics), with
// SIMULATED models behind it (profiles.ts). The parts: request.ts validates,
// planner.ts decides what the response says, wire.ts encodes it, stream.ts
// writes it (latency, faults), router.ts routes and authenticates. Each vLLM
// behaviour names the vLLM file it follows (docs/backends.md lists them).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readConversation } from './conversation';
import { drawStatusFault, drawStreamFault, type FaultPlan } from './faults';
import { EngineQueue, sleep, type LatencyModel } from './latency';
import { RealtimeEngine } from './engine-clock';
import type { EngineConstants } from './engine-model';
import { SimMetrics } from './metrics';
import { planRequest, type PlannerSettings, type ServedModel } from './planner';
import { isProfile, PROFILES } from './profiles';
import { parseChatRequest, VllmError, badRequest, type Sampling } from './request';
import { route, type Routes } from './router';
import { Rng } from '../../util/rng';
import { ENGINE_DEAD, hex32, writeFull, writeStream, type Outcome, type StreamEnv } from './stream';
import { warmTokenizer } from './tokenizer';
import { checkMediaRoot } from './vision';
import { modelsBody } from './wire';
import type { PredictorAnswerSpec } from '../../protocol/predictor-answer';

export type { LatencyModel } from './latency';
export type { FaultPlan } from './faults';

/** uvicorn's idle keep-alive in vLLM: VLLM_HTTP_TIMEOUT_KEEP_ALIVE, default
 * 5 s (vllm/envs.py; passed as timeout_keep_alive in
 * vllm/entrypoints/openai/api_server.py). */
export const VLLM_KEEP_ALIVE_S = 5;

export interface SimulatorOptions {
  port?: number;
  seed: number;
  models: Array<{ servedModelName: string; profile: string; root?: string; answerFormat?: PredictorAnswerSpec | undefined }>;
  latency?: LatencyModel | false;
  /** The continuous-batching engine model (opt-in; engine-model.ts) with
   * its time scale: modelled ms x timeScale = wall ms. */
  engineModel?: { constants: EngineConstants; timeScale: number };
  faults?: FaultPlan;
  /** vLLM's --stream-interval: an SSE event at the first token, then per
   * N tokens, then at the finish (default 1, vLLM's own default). */
  streamInterval?: number;
  /** Act as `--enable-auto-tool-choice --tool-call-parser hermes`. */
  serverParse?: boolean;
  /** Require `Authorization: Bearer KEY` on /v1 routes, as --api-key. */
  apiKey?: string;
  maxModelLen?: number;
  /** --limit-mm-per-prompt image count. */
  maxImagesPerPrompt?: number;
  /** --allowed-local-media-path, as given (vLLM checks it exists at startup). */
  allowedLocalMediaPath?: string;
  /** Sampling defaults of the server (--generation-config auto reads them
   * from the model folder's generation_config.json). */
  samplingDefaults?: Sampling;
  /** Stamp system_fingerprint on final messages, as the newest vLLM does
   * with --fingerprint-mode (off by default: the key is absent). */
  systemFingerprint?: boolean;
  /** Seconds an idle connection is kept (VLLM_HTTP_TIMEOUT_KEEP_ALIVE). */
  keepAliveS?: number;
  /** Called once when the engine dies (fault die-after); the fake vllm exits. */
  onEngineDeath?: () => void;
  /** Access log lines, as uvicorn prints them. */
  accessLog?: (line: string) => void;
  /** Load the tokenizer on the first request that counts tokens, not
   * before listening. The fake vllm sets it: vLLM loads its tokenizer before
   * it is ready, but the difference shows only in the first request's
   * latency (no response changes), and most fake servers in the tests are
   * started and stopped without a chat request (0.3-0.7 s of CPU each). */
  tokenizerOnFirstUse?: boolean;
}

export interface Simulator {
  /** http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

function statusError(status: 429 | 500 | 503): VllmError {
  if (status === 429) return new VllmError(429, 'RateLimitError', 'Too many requests: the server is overloaded, retry later.');
  if (status === 503) return new VllmError(503, 'ServiceUnavailableError', 'The server is temporarily unavailable.');
  return new VllmError(500, 'InternalServerError', 'Internal server error (simulated fault).');
}

function servedModels(opts: SimulatorOptions, latency: LatencyModel | null): Map<string, ServedModel> {
  if (opts.models.length === 0) throw new Error('startSimulator: no models to serve');
  const models = new Map<string, ServedModel>();
  for (const m of opts.models) {
    if (!isProfile(m.profile)) throw new Error(`startSimulator: unknown profile '${m.profile}' for model '${m.servedModelName}' (known: ${PROFILES.join(', ')})`);
    models.set(m.servedModelName, { name: m.servedModelName, profile: m.profile, root: m.root ?? m.servedModelName, answerFormat: m.answerFormat, queue: new EngineQueue(latency?.maxRunning ?? Number.MAX_SAFE_INTEGER), metrics: new SimMetrics(), engine: opts.engineModel ? new RealtimeEngine(opts.engineModel.constants, opts.engineModel.timeScale) : undefined });
  }
  return models;
}

/** The engine's state shared by every request: request numbers and death. */
class Engine {
  requestNo = 0;
  dead: boolean;
  private died = false;
  constructor(readonly faults: FaultPlan, private readonly onDeath?: () => void) {
    this.dead = faults.healthDown === true;
  }
  die(): void {
    this.dead = true;
    if (!this.died) {
      this.died = true;
      this.onDeath?.();
    }
  }
}

function chatHandler(models: Map<string, ServedModel>, engine: Engine, settings: PlannerSettings, env: StreamEnv): Routes['chat'] {
  const firstModel = models.values().next().value as ServedModel;
  return async (_req, res, raw) => {
    const t0 = performance.now();
    const n = engine.requestNo++;
    const chatReq = parseChatRequest(raw);
    const model = chatReq.model === undefined ? firstModel : models.get(chatReq.model);
    if (!model) throw new VllmError(404, 'NotFoundError', `The model \`${chatReq.model}\` does not exist.`, 'model');
    if (chatReq.toolChoice === 'auto' && !settings.serverParse) throw badRequest('"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set');
    // vLLM forces "required" and named choices through structured outputs;
    // the simulated models cannot, so these are refused rather than faked.
    if (chatReq.toolChoice === 'required' || typeof chatReq.toolChoice === 'object') throw badRequest('tce simulator: tool_choice "required" and named tool_choice (structured outputs in vLLM) are not simulated', 'tool_choice');
    if (engine.faults.dieAfter !== undefined && n >= engine.faults.dieAfter) engine.die();
    const draw = Rng.keyed(`${settings.seed}|fault|${n}`);
    const status = drawStatusFault(engine.faults, draw.next());
    if (status) throw statusError(status);
    if (engine.dead && !chatReq.stream) throw new VllmError(500, 'InternalServerError', ENGINE_DEAD);
    const p = planRequest(chatReq, readConversation(chatReq), model, settings);
    const outcome: Outcome = chatReq.stream
      ? await writeStream(res, p, engine.dead ? null : drawStreamFault(engine.faults, draw.next()), t0, env)
      : await writeFull(res, p, env);
    const m = model.metrics;
    m.success[outcome] = (m.success[outcome] ?? 0) + 1;
    if (outcome !== 'abort' && outcome !== 'error') m.generationTokens += p.completionTokens;
  };
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const latency = opts.latency === false || opts.latency === undefined ? null : opts.latency;
  const models = servedModels(opts, latency);
  if (opts.allowedLocalMediaPath) checkMediaRoot(opts.allowedLocalMediaPath);
  const engine = new Engine(opts.faults ?? {}, opts.onEngineDeath);
  const maxModelLen = opts.maxModelLen ?? 32_768;
  const settings: PlannerSettings = {
    seed: opts.seed, streamInterval: opts.streamInterval ?? 1, maxModelLen, maxImagesPerPrompt: opts.maxImagesPerPrompt ?? 999,
    allowedLocalMediaPath: opts.allowedLocalMediaPath, serverParse: opts.serverParse === true, samplingDefaults: opts.samplingDefaults ?? {},
  };
  const env: StreamEnv = { latency, faults: engine.faults, isDead: () => engine.dead, fingerprint: opts.systemFingerprint === true };
  const routes: Routes = {
    apiKey: opts.apiKey,
    health: () => (engine.dead ? 503 : 200),
    metrics: () => [...models.values()].map((m) => m.metrics.render(m.name, m.engine
      ? { running: m.engine.model.runningCount, waiting: m.engine.model.waitingCount, kvUsage: m.engine.model.kvUsage }
      : { running: m.queue.running, waiting: m.queue.waitingCount, kvUsage: latency ? Math.min(1, m.queue.kvTokens / latency.kvCacheTokens) : 0 })).join(''),
    models: () => modelsBody([...models.values()], Math.floor(Date.now() / 1000), maxModelLen, hex32),
    chat: chatHandler(models, engine, settings, env),
  };
  const server = http.createServer((req, res) => {
    if (opts.accessLog) {
      res.on('finish', () => opts.accessLog!(`INFO:     ${req.socket.remoteAddress}:${req.socket.remotePort} - "${req.method} ${(req.url ?? '/').split('?')[0]} HTTP/${req.httpVersion}" ${res.statusCode}`));
    }
    route(routes, req, res);
  });
  server.keepAliveTimeout = (opts.keepAliveS ?? VLLM_KEEP_ALIVE_S) * 1000;
  // Load the tokenizer before accepting connections: "ready" means fast.
  if (opts.tokenizerOnFirstUse !== true) warmTokenizer();
  if (engine.faults.slowStartMs) await sleep(engine.faults.slowStartMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    close: () => new Promise<void>((resolve) => {
      for (const m of models.values()) m.engine?.stop();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
