// `tce view`'s HTTP server: node:http on 127.0.0.1 only, GET and HEAD only,
// and headers that keep the pages inert: a Content-Security-Policy allowing
// nothing but same-origin styles, script and images (no inline script, no
// remote loads), and a Host check so a DNS-rebinding page cannot read it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { route, type Reply, type ViewContext } from './routes';
import { page, t } from './html';
import { TceError } from '../util/errors';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export const HOST = '127.0.0.1';

export interface ViewServer { url: string; port: number; close(): Promise<void> }

function send(res: http.ServerResponse, r: Reply, head: boolean): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  res.writeHead(r.status, { ...SECURITY_HEADERS, 'Content-Type': r.type, 'Content-Length': String(body.byteLength), 'Cache-Control': r.cache ?? 'no-store' });
  res.end(head ? undefined : body);
}

const plain = (status: number, message: string): Reply => ({ status, type: 'text/html; charset=utf-8', body: page(String(status), `<h1>${status}</h1><p>${t(message)}</p>`) });

async function handle(ctx: ViewContext, port: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, plain(405, 'the viewer is read-only: GET and HEAD only'), false);
    return;
  }
  if (req.headers.host !== `${HOST}:${port}` && req.headers.host !== `localhost:${port}`) {
    send(res, plain(421, `unexpected Host header: open http://${HOST}:${port}/`), head);
    return;
  }
  let reply: Reply;
  try {
    reply = await route(ctx, new URL(req.url ?? '/', `http://${HOST}:${port}`));
  } catch (e) {
    const msg = e instanceof URIError ? 'malformed URL' : (e as Error).message;
    reply = plain(e instanceof URIError ? 400 : 500, msg);
    if (!(e instanceof URIError)) process.stderr.write(`tce view: ${req.url}: ${(e as Error).stack ?? msg}\n`);
  }
  send(res, reply, head);
}

/** Listens on 127.0.0.1:`port` (0: any free port). */
export function startViewServer(ctx: ViewContext, port = 0): Promise<ViewServer> {
  return new Promise((resolve, reject) => {
    let bound = 0;
    const server = http.createServer((req, res) => { void handle(ctx, bound, req, res); });
    const failed = (e: NodeJS.ErrnoException): void => reject(e.code === 'EADDRINUSE'
      ? new TceError('PORT_IN_USE', `${HOST}:${port} is already in use`, 'pick another --port, or leave it out for a free one')
      : e);
    server.once('error', failed);
    server.listen(port, HOST, () => {
      bound = (server.address() as AddressInfo).port;
      server.off('error', failed);
      resolve({
        url: `http://${HOST}:${bound}/`,
        port: bound,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
