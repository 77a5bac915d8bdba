// The simulator's HTTP routes, with vLLM's authentication rule: an API key
// guards every path starting with /v1, /v2 or /inference (a plain prefix
// test), the scheme word "bearer" in any case, OPTIONS never
// (AuthenticationMiddleware in vllm/entrypoints/serve/utils/server_utils.py,
// read at vllm-project/vllm main, 2026-11; 401 body {"error":"Unauthorized"}).
import type http from 'node:http';
import { badRequest, VllmError } from './request';
import { JSON_HEADERS } from './stream';

const GUARDED_PREFIX = ['/v1', '/v2', '/inference'];
const MAX_BODY = 64 * 1024 * 1024;

export interface Routes {
  apiKey: string | undefined;
  health(): number;
  metrics(): string;
  models(): string;
  chat(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void>;
}

export function authorized(path: string, method: string | undefined, header: string | undefined, key: string | undefined): boolean {
  if (!key || method === 'OPTIONS' || !GUARDED_PREFIX.some((p) => path.startsWith(p))) return true;
  if (!header) return false;
  const sp = header.indexOf(' ');
  const scheme = sp < 0 ? header : header.slice(0, sp);
  return scheme.toLowerCase() === 'bearer' && (sp < 0 ? '' : header.slice(sp + 1)) === key;
}

export function sendJson(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, JSON_HEADERS);
  res.end(body);
}

function readBody(req: http.IncomingMessage, res: http.ServerResponse, then: (raw: string) => void): void {
  const parts: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY) parts.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return sendJson(res, 413, badRequest('Request body too large').body());
    then(Buffer.concat(parts).toString('utf8'));
  });
}

function chatRoute(routes: Routes, req: http.IncomingMessage, res: http.ServerResponse): void {
  readBody(req, res, (raw) => {
    routes.chat(req, res, raw).catch((e: unknown) => {
      const err = e instanceof VllmError ? e : new VllmError(500, 'InternalServerError', e instanceof Error ? e.message : String(e));
      if (!res.headersSent) sendJson(res, err.status, err.body());
      else if (!res.writableEnded) res.end(`data: ${err.body()}\n\ndata: [DONE]\n\n`);
    });
  });
}

export function route(routes: Routes, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = (req.url ?? '/').split('?')[0]!;
  // uvicorn (h11) sends no "Keep-Alive: timeout=N" hint, so a client cannot
  // learn when an idle socket will be closed. Setting the connection header
  // ourselves stops node from adding that hint; keep-alive itself is unchanged.
  if (req.headers.connection?.toLowerCase() !== 'close') res.setHeader('connection', 'keep-alive');
  if (!authorized(url, req.method, req.headers.authorization, routes.apiKey)) {
    sendJson(res, 401, '{"error":"Unauthorized"}');
    req.resume();
    return;
  }
  if (req.method === 'GET' && url === '/health') {
    res.writeHead(routes.health());
    res.end();
  } else if (req.method === 'GET' && url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(routes.metrics());
  } else if (req.method === 'GET' && url === '/v1/models') {
    sendJson(res, 200, routes.models());
  } else if (req.method === 'GET' && url === '/version') {
    sendJson(res, 200, '{"version":"0.0.0+tce-simulator"}');
  } else if (url === '/v1/chat/completions' && req.method === 'POST') {
    chatRoute(routes, req, res);
  } else {
    sendJson(res, url === '/v1/chat/completions' ? 405 : 404, url === '/v1/chat/completions' ? '{"detail":"Method Not Allowed"}' : '{"detail":"Not Found"}');
  }
}
