// One turn = one streamed chat completion, with retries. The hot path posts
// over raw keep-alive sockets whose responses the addon frames (raw-http.ts;
// undici's dispatcher for https: and the TypeScript twin) and feeds the
// response body to the stream engine (SSE framing, JSON, <tool_call>
// scanning and answer parsing happen there); the `openai` package is the
// alternative client for hosted APIs.
import { performance } from 'node:perf_hooks';
import type { Pool as UndiciPool } from 'undici';
// Types only: the package (~0.3 s of module loading) is required when an
// OpenAIChatClient is made, so native-mode runs never load it.
import type OpenAI from 'openai';
import type { Endpoint } from '../backends/types';
import type { StreamEngine, StreamEngineOptions, StreamResult, ExtractedToolCall } from '../extract/types';
import { extractText, markNotOffered } from '../extract/extract';
import { FeedBatcher } from './feed-batcher';
import { requestBody, type ChatMessage, type TurnParams } from './chat-request';
import { CLIENT_KEEP_ALIVE_MS } from '../backends/keep-alive';
import { DispatchFailure, UndiciTransport, type TurnTransport } from './engine-dispatch';
import { RawHttpPool, rawHeadersOk } from './raw-http';
import { ioConnector } from './io-http';
import { NativeStreamEngine } from '../extract/native-engine';
import { streamedBodyBytes } from './request-body';

export type TurnStatus = 'ok' | 'server_error' | 'timeout';

export interface TurnTiming {
  /** Request sent (performance.now(), ms). */
  sentAt: number;
  ttftMs: number | null;
  decodeMs: number | null;
  e2eMs: number;
  /** Arrival offsets (ms from sentAt) of body chunks that carried content. */
  chunkOffsetsMs: Float64Array;
}

export interface TurnOutcome {
  status: TurnStatus;
  result: StreamResult | null;
  error: string | null;
  retries: number;
  timing: TurnTiming;
  /** The server that answered, when the client spreads over replicas. */
  endpoint?: string;
}

export interface RetryPolicy {
  max: number;
  baseDelayMs: number;
  maxDelayMs: number;
  requestTimeoutMs: number;
}

class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs: number | null = null, readonly kind: 'timeout' | 'server' = 'server') {
    super(message);
  }
}
class FatalError extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function backoffMs(attempt: number, p: RetryPolicy, rand: () => number = Math.random): number {
  const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** attempt);
  return Math.round(exp * (0.5 + 0.5 * rand()));
}

function errorText(status: number, body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string }; message?: string };
    const m = j.error?.message ?? j.message;
    if (m) return `HTTP ${status}: ${m}`;
  } catch { /* not JSON: keep the text */ }
  return `HTTP ${status}: ${body.slice(0, 300)}`;
}

/** Talks to one endpoint. */
export interface ChatClient {
  readonly endpoint: Endpoint;
  turn(messages: readonly ChatMessage[], params: TurnParams, engineOpts: StreamEngineOptions, retry: RetryPolicy): Promise<TurnOutcome>;
  close(): Promise<void>;
}

/** `closed`: the client was closed (the run failed or ended), so a failed
 * attempt is final; otherwise each turn still in flight would sleep through
 * its backoffs (seconds) before the process could exit. */
async function withRetries(retry: RetryPolicy, attempt: (n: number) => Promise<{ result: StreamResult; timing: TurnTiming }>, closed: () => boolean = () => false): Promise<TurnOutcome> {
  const started = performance.now();
  // A turn that never succeeded reports the time spent trying, with no TTFT.
  const failedTiming = (): TurnTiming => ({ sentAt: started, ttftMs: null, decodeMs: null, e2eMs: performance.now() - started, chunkOffsetsMs: new Float64Array(0) });
  let last: Error | null = null;
  for (let n = 0; n <= retry.max; n++) {
    try {
      const { result, timing } = await attempt(n);
      return { status: 'ok', result, error: null, retries: n, timing };
    } catch (e) {
      last = e as Error;
      if (e instanceof FatalError || closed()) return { status: 'server_error', result: null, error: last.message, retries: n, timing: failedTiming() };
      if (n === retry.max) break;
      const wait = e instanceof RetryableError && e.retryAfterMs !== null ? e.retryAfterMs : backoffMs(n, retry);
      await sleep(wait);
    }
  }
  const kind = last instanceof RetryableError && last.kind === 'timeout' ? 'timeout' : 'server_error';
  return { status: kind, result: null, error: last?.message ?? 'unknown error', retries: retry.max, timing: failedTiming() };
}

function timingFrom(sentAt: number, end: number, r: StreamResult): TurnTiming {
  const offsets = new Float64Array(r.chunkTimesMs.length);
  for (let i = 0; i < offsets.length; i++) offsets[i] = r.chunkTimesMs[i]! - sentAt;
  return {
    sentAt,
    ttftMs: r.firstTokenMs === null ? null : r.firstTokenMs - sentAt,
    decodeMs: r.firstTokenMs === null || r.lastTokenMs === null ? null : r.lastTokenMs - r.firstTokenMs,
    e2eMs: end - sentAt,
    chunkOffsetsMs: offsets,
  };
}

// undici's Pool module alone, loaded when a client takes the undici route
// (https:, the twin): the package's index also loads fetch,
// WebSocket, caches and mocks (~0.1 s of CPU per run) that tce never uses.
// undici has no "exports" map, so the path is reachable; a version that
// moves it fails on that route's first client (test 6g takes it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const undiciPool = (): typeof UndiciPool => require('undici/lib/dispatcher/pool') as typeof UndiciPool;

/** 'auto': with the C++ engine, a plain http: endpoint is reached over raw
 * sockets with C++ response framing (raw-http.ts), read by the socket kind
 * rawSocketKind() names; https:, the TypeScript twin, or 'undici' asked for
 * (tests, the bench) go through undici's dispatcher (engine-dispatch.ts).
 * 'net' and 'io' ask for one raw socket kind (tests, the bench); 'io'
 * falls back to 'net' where the addon has no I/O thread. */
export type TurnRoute = 'auto' | 'undici' | 'net' | 'io';

/** The raw route's socket kind under 'auto': TCE_RAW_SOCKETS=io|net, else
 * the default (docs/backends.md, "The raw route's sockets"). */
export function rawSocketKind(env: NodeJS.ProcessEnv = process.env): 'io' | 'net' {
  const v = env.TCE_RAW_SOCKETS;
  return v === 'io' || v === 'net' ? v : DEFAULT_RAW_SOCKETS;
}
const DEFAULT_RAW_SOCKETS: 'io' | 'net' = 'io';

/** The native hot path: the stream engine fed from the HTTP layer without
 * body streams (raw-http.ts or engine-dispatch.ts), the body from cached
 * parts (request-body.ts). */
export class NativeChatClient implements ChatClient {
  private readonly transport: TurnTransport;
  private readonly path: string;
  private readonly headers: string[];
  private closed = false;

  constructor(readonly endpoint: Endpoint, private readonly engine: StreamEngine, private readonly batcher: FeedBatcher, connections: number, route: TurnRoute = 'auto') {
    const u = new URL(endpoint.baseUrl);
    this.path = `${u.pathname.replace(/\/$/, '')}/chat/completions`;
    this.headers = ['content-type', 'application/json', 'authorization', `Bearer ${endpoint.apiKey}`, 'accept', 'text/event-stream'];
    // Both routes keep idle sockets below vLLM's idle close: src/backends/keep-alive.ts.
    if (route !== 'undici' && u.protocol === 'http:' && engine instanceof NativeStreamEngine && rawHeadersOk(this.headers)) {
      const raw = { ...engine.binding, streams: engine };
      const kind = route === 'auto' ? rawSocketKind() : route;
      this.transport = new RawHttpPool(raw, u, this.path, this.headers, { connections, keepAliveMs: CLIENT_KEEP_ALIVE_MS }, kind === 'io' ? ioConnector(raw) ?? undefined : undefined);
    } else {
      this.transport = new UndiciTransport(new (undiciPool())(u.origin, { connections, pipelining: 1, keepAliveTimeout: CLIENT_KEEP_ALIVE_MS }), engine, batcher);
    }
  }

  /** Which route this client's turns take. */
  get route(): TurnTransport['route'] {
    return this.transport.route;
  }

  turn(messages: readonly ChatMessage[], params: TurnParams, engineOpts: StreamEngineOptions, retry: RetryPolicy): Promise<TurnOutcome> {
    const body = streamedBodyBytes(this.endpoint, messages, params);
    return withRetries(retry, () => this.once(body, engineOpts, retry.requestTimeoutMs), () => this.closed);
  }

  private async once(body: Buffer, engineOpts: StreamEngineOptions, timeoutMs: number): Promise<{ result: StreamResult; timing: TurnTiming }> {
    const sentAt = performance.now();
    let res;
    try {
      res = await this.transport.send({ path: this.path, headers: this.headers, body, timeoutMs }, engineOpts);
    } catch (e) {
      const f = e instanceof DispatchFailure ? e : new DispatchFailure((e as Error).message, false, false);
      if (!f.started) {
        if (f.timedOut) throw new RetryableError(`request timed out after ${timeoutMs} ms`, null, 'timeout');
        throw new RetryableError(`connection failed: ${f.message}`);
      }
      if (f.timedOut) throw new RetryableError(`stream stalled: no completion within ${timeoutMs} ms`, null, 'timeout');
      throw new RetryableError(`connection dropped mid-stream: ${f.message}`);
    }
    if (res.status !== 200) {
      const msg = errorText(res.status, res.errorText);
      if (res.status === 429 || res.status >= 500) {
        const ra = Number(res.headers['retry-after']);
        throw new RetryableError(msg, Number.isFinite(ra) && ra > 0 ? Math.min(ra * 1000, 30_000) : null);
      }
      throw new FatalError(msg);
    }
    this.batcher.flush();
    const end = performance.now();
    const result = this.engine.finish(res.handle);
    if (result.error) throw new RetryableError(`mid-stream error: ${result.error.message}`);
    if (!result.sawDone) throw new RetryableError('stream ended without [DONE] (connection dropped)');
    return { result, timing: timingFrom(sentAt, end, result) };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close();
  }
}

/** The `openai` package as client (hosted APIs; the bench's contender). */
export class OpenAIChatClient implements ChatClient {
  private readonly client: OpenAI;
  constructor(readonly endpoint: Endpoint) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: OpenAIClient } = require('openai') as typeof import('openai');
    this.client = new OpenAIClient({ baseURL: endpoint.baseUrl, apiKey: endpoint.apiKey, maxRetries: 0 });
  }

  turn(messages: readonly ChatMessage[], params: TurnParams, engineOpts: StreamEngineOptions, retry: RetryPolicy): Promise<TurnOutcome> {
    const body = requestBody(this.endpoint, messages, params, true);
    return withRetries(retry, () => this.once(body, engineOpts, retry.requestTimeoutMs));
  }

  private async once(body: Record<string, unknown>, engineOpts: StreamEngineOptions, timeoutMs: number): Promise<{ result: StreamResult; timing: TurnTiming }> {
    const sentAt = performance.now();
    const signal = AbortSignal.timeout(timeoutMs);
    let text = '';
    let first: number | null = null;
    let lastT: number | null = null;
    const times: number[] = [];
    const counts: number[] = [];
    let finishReason: string | null = null;
    let usage: StreamResult['usage'] = null;
    const serverCalls = new Map<number, { name: string; args: string }>();
    try {
      const stream = (await this.client.chat.completions.create(body as never, { signal })) as unknown as AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
      for await (const chunk of stream) {
        const t = performance.now();
        const ch = chunk.choices[0];
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        if (!ch) continue;
        const piece = ch.delta?.content ?? '';
        if (piece) {
          text += piece;
          if (first === null) first = t;
          lastT = t;
          times.push(t);
          counts.push(1);
        }
        for (const tc of ch.delta?.tool_calls ?? []) {
          const cur = serverCalls.get(tc.index) ?? { name: '', args: '' };
          if (tc.function?.name) cur.name += tc.function.name;
          if (tc.function?.arguments) cur.args += tc.function.arguments;
          serverCalls.set(tc.index, cur);
        }
        if (ch.finish_reason) finishReason = ch.finish_reason;
      }
      // The openai package ends the iteration quietly when the signal
      // aborts: a stream cut by requestTimeoutS (or one that stopped
      // without a finish_reason) is a failed turn, never an ok turn with
      // truncated text for the model to be blamed for.
      if (signal.aborted) throw new RetryableError(`stream stalled: no completion within ${timeoutMs} ms`, null, 'timeout');
      if (finishReason === null) throw new RetryableError('stream ended without a finish_reason (connection dropped)');
    } catch (e) {
      if (e instanceof RetryableError) throw e;
      if (signal.aborted) throw new RetryableError(`request timed out after ${timeoutMs} ms`, null, 'timeout');
      const status = (e as { status?: number }).status;
      if (status !== undefined && status !== 429 && status < 500) throw new FatalError(`HTTP ${status}: ${(e as Error).message}`);
      throw new RetryableError((e as Error).message);
    }
    const end = performance.now();
    const ex = extractText(text, engineOpts);
    const server: ExtractedToolCall[] = [...serverCalls.values()].map((c) => {
      try {
        return { name: c.name, arguments: JSON.parse(c.args || '{}') as unknown, status: 'ok', repairs: [], raw: c.args, source: 'server' };
      } catch {
        return { name: c.name || null, arguments: null, status: 'invalid_json', repairs: [], raw: c.args, source: 'server' };
      }
    });
    markNotOffered(server, engineOpts.offeredTools);
    const result: StreamResult = {
      ...ex,
      toolCalls: [...ex.toolCalls, ...server],
      text,
      finishReason,
      usage,
      error: null,
      firstTokenMs: first,
      lastTokenMs: lastT,
      chunkTimesMs: times,
      chunkTokens: counts,
      sawDone: true,
    };
    return { result, timing: timingFrom(sentAt, end, result) };
  }

  async close(): Promise<void> { /* the openai client holds no pool of its own */ }
}
