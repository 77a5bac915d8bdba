// The built-in simulator: an HTTP server on 127.0.0.1 that answers like a
// vLLM OpenAI server (framing, chunk shapes, errors, /health, /metrics), with
// SIMULATED models behind it (profiles.ts). Per-request work is kept small:
// images, token counts and delta splits are cached, and without the latency
// model a whole stream is written with one end() call.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { readConversation, type Conversation } from './conversation';
import { drawStatusFault, drawStreamFault, type FaultPlan, type StreamFault } from './faults';
import { hermesParse, type ParsedCall } from './hermes';
import { DEFAULT_LATENCY, EngineQueue, sleep, type LatencyModel } from './latency';
import { SimMetrics } from './metrics';
import { generate, isProfile, PROFILES, type ProfileName } from './profiles';
import { parseChatRequest, VllmError, badRequest, type ChatRequest } from './request';
import { Draw } from './rng';
import { countTokens, splitDeltas, warmTokenizer } from './tokenizer';
import { ImageError, seeImage, type Sight } from './vision';

export type { LatencyModel } from './latency';
export type { FaultPlan } from './faults';

export interface SimulatorOptions {
  port?: number;
  seed: number;
  models: Array<{ servedModelName: string; profile: string; root?: string }>;
  latency?: LatencyModel | false;
  faults?: FaultPlan;
  tokensPerDelta?: number;
  /** Act as `--enable-auto-tool-choice --tool-call-parser hermes`. */
  serverParse?: boolean;
  /** Require `Authorization: Bearer KEY` on /v1 routes, as --api-key. */
  apiKey?: string;
  maxModelLen?: number;
  /** --limit-mm-per-prompt image count. */
  maxImagesPerPrompt?: number;
  allowedLocalMediaPath?: string;
  /** Called once when the engine dies (fault die-after); the fake vllm exits. */
  onEngineDeath?: () => void;
  /** Access log lines, as uvicorn prints them. */
  accessLog?: (line: string) => void;
}

export interface Simulator {
  /** http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

interface ServedModel {
  name: string;
  profile: ProfileName;
  root: string;
  queue: EngineQueue;
  metrics: SimMetrics;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const JSON_HEADERS = { 'content-type': 'application/json' };
const MAX_BODY = 64 * 1024 * 1024;
const ENGINE_DEAD = 'EngineCore encountered an issue. See stack trace (above) for the root cause.';

const toolsBlockTokens = new Map<string, number>();
/** Tokens of the "# Tools" system block the chat template renders. */
function toolTokens(json: string): number {
  if (!json) return 0;
  let n = toolsBlockTokens.get(json);
  if (n === undefined) {
    n = countTokens(json) + 95;
    if (toolsBlockTokens.size < 1000) toolsBlockTokens.set(json, n);
  }
  return n;
}

function sendJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, JSON_HEADERS);
  res.end(body);
}

function statusError(status: 429 | 500 | 503): VllmError {
  if (status === 429) return new VllmError(429, 'RateLimitError', 'Too many requests: the server is overloaded, retry later.');
  if (status === 503) return new VllmError(503, 'ServiceUnavailableError', 'The server is temporarily unavailable.');
  return new VllmError(500, 'InternalServerError', 'Internal server error (simulated fault).');
}

interface Plan {
  model: ServedModel;
  req: ChatRequest;
  promptTokens: number;
  cachedTokens: number;
  imageMiss: number;
  deltas: string[];
  completionTokens: number;
  finish: 'stop' | 'length' | 'tool_calls';
  calls: ParsedCall[] | null;
  content: string | null;
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  if (opts.models.length === 0) throw new Error('startSimulator: no models to serve');
  const models = new Map<string, ServedModel>();
  const latency = opts.latency === false || opts.latency === undefined ? null : opts.latency;
  for (const m of opts.models) {
    if (!isProfile(m.profile)) throw new Error(`startSimulator: unknown profile '${m.profile}' for model '${m.servedModelName}' (known: ${PROFILES.join(', ')})`);
    models.set(m.servedModelName, { name: m.servedModelName, profile: m.profile, root: m.root ?? m.servedModelName, queue: new EngineQueue(latency?.maxRunning ?? Number.MAX_SAFE_INTEGER), metrics: new SimMetrics() });
  }
  const firstModel = models.values().next().value as ServedModel;
  const faults = opts.faults ?? {};
  const perDelta = opts.tokensPerDelta ?? 4;
  const maxModelLen = opts.maxModelLen ?? 32_768;
  const maxImages = opts.maxImagesPerPrompt ?? 999;
  let requestNo = 0;
  let dead = faults.healthDown === true;
  let died = false;
  const created = () => Math.floor(Date.now() / 1000);

  const die = () => {
    dead = true;
    if (!died) {
      died = true;
      opts.onEngineDeath?.();
    }
  };

  function plan(req: ChatRequest, conv: Conversation, model: ServedModel): Plan {
    if (conv.imageUrls.length > maxImages) {
      throw badRequest(`At most ${maxImages} image(s) may be provided in one prompt. Set \`--limit-mm-per-prompt\` to increase this limit.`);
    }
    let sight: Sight | null = null;
    let imageMiss = 0;
    let imageTokens = 0;
    for (const url of conv.imageUrls) {
      let s: Sight;
      try {
        s = seeImage(url, opts.allowedLocalMediaPath);
      } catch (e) {
        if (e instanceof ImageError) throw badRequest(e.message);
        throw e;
      }
      sight ??= s;
      imageTokens += s.imageTokens + 2;
      if (!model.metrics.image(s.hash)) imageMiss++;
    }
    const messageTokens = conv.texts.map((t) => countTokens(t) + 5);
    if (messageTokens.length > 0) messageTokens[0]! += toolTokens(req.toolsJson) + imageTokens;
    let promptTokens = 3;
    for (const n of messageTokens) promptTokens += n;
    const maxTokens = req.maxTokens ?? Math.max(1, maxModelLen - promptTokens);
    if (promptTokens + (req.maxTokens ?? 0) > maxModelLen) {
      throw badRequest(`This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + (req.maxTokens ?? 0)} tokens (${promptTokens} in the messages, ${req.maxTokens ?? 0} in the completion). Please reduce the length of the messages or completion.`);
    }
    const cachedTokens = model.metrics.prompt(conv.texts, messageTokens, promptTokens);
    const text = generate({ seed: opts.seed, profile: model.profile, conv, seen: sight?.seen ?? new Set(), imageHash: sight?.hash ?? 'no-image' });
    const split = splitDeltas(text, perDelta, maxTokens);
    let finish: Plan['finish'] = split.truncated ? 'length' : 'stop';
    let calls: ParsedCall[] | null = null;
    let content: string | null = split.deltas.join('');
    const parsing = opts.serverParse === true && req.tools !== undefined && (req.toolChoice === 'auto' || req.toolChoice === 'required');
    if (parsing) {
      const parsed = hermesParse(content);
      if (parsed && parsed.calls.length > 0) {
        calls = parsed.calls;
        content = parsed.content;
        finish = 'tool_calls';
      }
    }
    return { model, req, promptTokens, cachedTokens, imageMiss, deltas: split.deltas, completionTokens: split.tokens, finish, calls, content };
  }

  function chunkHead(id: string, t: number, model: string): string {
    return `data: {"id":"${id}","object":"chat.completion.chunk","created":${t},"model":${JSON.stringify(model)},"choices":[`;
  }

  /** The SSE events of a planned response, in order (without [DONE]). */
  function events(p: Plan): string[] {
    const head = chunkHead(`chatcmpl-${randomUUID().replace(/-/g, '')}`, created(), p.model.name);
    const out: string[] = [`${head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null}\n\n`];
    const finishTail = `,"logprobs":null,"finish_reason":"${p.finish}","stop_reason":null,"token_ids":null}]}\n\n`;
    const openTail = ',"logprobs":null,"finish_reason":null,"token_ids":null}]}\n\n';
    if (p.calls) {
      // hermes: content before the first call streams as text, then per call
      // a name delta and argument fragments.
      if (p.content) for (const d of splitDeltas(p.content, perDelta, Number.MAX_SAFE_INTEGER).deltas) out.push(`${head}{"index":0,"delta":{"content":${JSON.stringify(d)}}${openTail}`);
      p.calls.forEach((c, i) => {
        out.push(`${head}{"index":0,"delta":{"tool_calls":[{"id":"chatcmpl-tool-${randomUUID().replace(/-/g, '')}","type":"function","index":${i},"function":{"name":${JSON.stringify(c.name)}}}]}${openTail}`);
        const cut = Math.ceil(c.arguments.length / 2);
        const frags = [c.arguments.slice(0, cut), c.arguments.slice(cut)];
        frags.forEach((f, k) => {
          const last = i === p.calls!.length - 1 && k === frags.length - 1;
          out.push(`${head}{"index":0,"delta":{"tool_calls":[{"index":${i},"function":{"arguments":${JSON.stringify(f)}}}]}${last ? finishTail : openTail}`);
        });
      });
    } else if (p.deltas.length === 0) {
      out.push(`${head}{"index":0,"delta":{"content":""}${finishTail}`);
    } else {
      const last = p.deltas.length - 1;
      p.deltas.forEach((d, i) => out.push(`${head}{"index":0,"delta":{"content":${JSON.stringify(d)}}${i === last ? finishTail : openTail}`));
    }
    if (p.req.includeUsage) {
      out.push(`${head}],"usage":{"prompt_tokens":${p.promptTokens},"total_tokens":${p.promptTokens + p.completionTokens},"completion_tokens":${p.completionTokens}}}\n\n`);
    }
    return out;
  }

  function completionBody(p: Plan): string {
    const message = {
      role: 'assistant', content: p.content, refusal: null, annotations: null, audio: null, function_call: null,
      tool_calls: (p.calls ?? []).map((c) => ({ id: `chatcmpl-tool-${randomUUID().replace(/-/g, '')}`, type: 'function', function: { name: c.name, arguments: c.arguments } })),
      reasoning_content: null,
    };
    return JSON.stringify({
      id: `chatcmpl-${randomUUID().replace(/-/g, '')}`, object: 'chat.completion', created: created(), model: p.model.name,
      choices: [{ index: 0, message, logprobs: null, finish_reason: p.finish, stop_reason: null }],
      service_tier: null, system_fingerprint: null,
      usage: { prompt_tokens: p.promptTokens, total_tokens: p.promptTokens + p.completionTokens, completion_tokens: p.completionTokens, prompt_tokens_details: null },
      prompt_logprobs: null, kv_transfer_params: null,
    });
  }

  const midError = (msg: string) => `data: ${new VllmError(500, 'InternalServerError', msg).body()}\n\n`;

  async function stream(res: http.ServerResponse, p: Plan, fault: StreamFault, t0: number): Promise<string> {
    const evs = events(p);
    if (!latency && fault === null && !dead) {
      p.model.metrics.firstToken((performance.now() - t0) / 1000);
      res.writeHead(200, SSE_HEADERS);
      res.end(evs.join('') + 'data: [DONE]\n\n');
      return p.finish;
    }
    const release = latency ? await p.model.queue.admit(p.promptTokens + p.completionTokens) : () => {};
    let closed = false;
    res.on('close', () => { closed = true; release(); });
    try {
      if (latency) await sleep(((p.promptTokens - p.cachedTokens) / latency.prefillTokensPerS) * 1000 + p.imageMiss * latency.imageMs);
      res.writeHead(200, SSE_HEADERS);
      // The fault fires after the role chunk and the first content delta.
      const faultAt = Math.min(2, evs.length - 1);
      for (let i = 0; i < evs.length; i++) {
        if (closed) return 'abort';
        // A dead engine fails streams in flight after their role chunk.
        if (dead && i >= 1) {
          res.end(midError(ENGINE_DEAD) + 'data: [DONE]\n\n');
          return 'error';
        }
        if (i === faultAt && fault !== null) {
          if (fault === 'drop') {
            // Let what was written reach the client first, then cut the connection.
            await new Promise<void>((r) => res.write('', () => r()));
            res.socket?.destroy();
            return 'abort';
          }
          if (fault === 'mid-error') {
            res.end(midError('Simulated mid-stream engine error.') + 'data: [DONE]\n\n');
            return 'error';
          }
          if (fault === 'garbage') res.write('data: {"id":"chatcmpl-garbage","choices":[{"delta":{"content":"\n\n');
          if (fault === 'stall') await sleep(faults.stallMs ?? 5000);
        }
        res.write(evs[i]!);
        if (i === 1) p.model.metrics.firstToken((performance.now() - t0) / 1000);
        if (latency && i >= 1 && i < evs.length - 1) await sleep(latency.decodeMsPerToken * perDelta);
      }
      res.end('data: [DONE]\n\n');
      return p.finish;
    } finally {
      release();
    }
  }

  async function chat(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const t0 = performance.now();
    const n = requestNo++;
    const chatReq = parseChatRequest(raw);
    const model = chatReq.model === undefined ? firstModel : models.get(chatReq.model);
    if (!model) throw new VllmError(404, 'NotFoundError', `The model \`${chatReq.model}\` does not exist.`);
    if (!opts.serverParse && chatReq.toolChoice === 'auto') throw badRequest('"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set');
    if (!opts.serverParse && (chatReq.toolChoice === 'required' || typeof chatReq.toolChoice === 'object')) throw badRequest('tool_choice="required" requires --tool-call-parser to be set');
    if (faults.dieAfter !== undefined && n >= faults.dieAfter) die();
    const draw = new Draw(`${opts.seed}|fault|${n}`);
    const status = drawStatusFault(faults, draw.next());
    if (status) throw statusError(status);
    if (dead && !chatReq.stream) throw new VllmError(500, 'InternalServerError', ENGINE_DEAD);
    const p = plan(chatReq, readConversation(chatReq), model);
    let outcome: string;
    if (chatReq.stream) {
      outcome = await stream(res, p, dead ? null : drawStreamFault(faults, draw.next()), t0);
    } else {
      const release = latency ? await model.queue.admit(p.promptTokens + p.completionTokens) : () => {};
      try {
        if (latency) await sleep(((p.promptTokens - p.cachedTokens) / latency.prefillTokensPerS) * 1000 + p.imageMiss * latency.imageMs + latency.decodeMsPerToken * p.completionTokens);
        sendJson(res, 200, completionBody(p));
      } finally {
        release();
      }
      outcome = p.finish;
    }
    const m = model.metrics;
    m.success[outcome] = (m.success[outcome] ?? 0) + 1;
    if (outcome !== 'abort' && outcome !== 'error') m.generationTokens += p.completionTokens;
  }

  function metricsText(): string {
    let s = '';
    for (const m of models.values()) {
      const kvUsage = latency ? Math.min(1, m.queue.kvTokens / latency.kvCacheTokens) : 0;
      s += m.metrics.render(m.name, { running: m.queue.running, waiting: m.queue.waitingCount, kvUsage });
    }
    return s;
  }

  function modelsBody(): string {
    return JSON.stringify({
      object: 'list',
      data: [...models.values()].map((m) => ({
        id: m.name, object: 'model', created: created(), owned_by: 'vllm', root: m.root, parent: null, max_model_len: maxModelLen,
        permission: [{ id: `modelperm-${randomUUID().replace(/-/g, '')}`, object: 'model_permission', created: created(), allow_create_engine: false, allow_sampling: true, allow_logprobs: true, allow_search_indices: false, allow_view: true, allow_fine_tuning: false, organization: '*', group: null, is_blocking: false }],
      })),
    });
  }

  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    if (opts.accessLog) {
      res.on('finish', () => opts.accessLog!(`INFO:     ${req.socket.remoteAddress}:${req.socket.remotePort} - "${req.method} ${url} HTTP/${req.httpVersion}" ${res.statusCode}`));
    }
    if (url.startsWith('/v1/') && opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      sendJson(res, 401, '{"error":"Unauthorized"}');
      req.resume();
      return;
    }
    if (req.method === 'GET' && url === '/health') {
      res.writeHead(dead ? 503 : 200);
      res.end();
      return;
    }
    if (req.method === 'GET' && url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metricsText());
      return;
    }
    if (req.method === 'GET' && url === '/v1/models') return sendJson(res, 200, modelsBody());
    if (req.method === 'GET' && url === '/version') return sendJson(res, 200, '{"version":"0.0.0+tce-simulator"}');
    if (url === '/v1/chat/completions' && req.method === 'POST') {
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) parts.push(c);
      });
      req.on('end', () => {
        if (size > MAX_BODY) return sendJson(res, 413, badRequest('Request body too large').body());
        chat(req, res, Buffer.concat(parts).toString('utf8')).catch((e: unknown) => {
          const err = e instanceof VllmError ? e : new VllmError(500, 'InternalServerError', e instanceof Error ? e.message : String(e));
          if (!res.headersSent) sendJson(res, err.status, err.body());
          else if (!res.writableEnded) res.end(`data: ${err.body()}\n\ndata: [DONE]\n\n`);
        });
      });
      return;
    }
    sendJson(res, url === '/v1/chat/completions' ? 405 : 404, url === '/v1/chat/completions' ? '{"detail":"Method Not Allowed"}' : '{"detail":"Not Found"}');
  });
  server.keepAliveTimeout = 30_000;

  // Load the tokenizer before accepting connections: "ready" means fast.
  warmTokenizer();
  if (faults.slowStartMs) await sleep(faults.slowStartMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
