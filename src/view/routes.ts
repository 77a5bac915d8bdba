// The viewer's routes: GET only, each a pure read of the store.
import { provenanceLine } from '../report/format';
import { applyFilter, filterOptions, filterQuery, neighbours, pageOf, parseFilter } from './condition-list';
import { banner, t, page } from './html';
import { VIEW_CSS, VIEW_JS } from './assets';
import { suite } from './suite-data';
import { sampleView } from './sample-data';
import { suitePage } from './pages/suite-page';
import { conditionPage } from './pages/condition-page';
import { samplePage, type SampleNav } from './pages/sample-page';
import type { ImageSource } from './images';
import type { ViewStore } from './view-store';
import type { ListCache } from './list-cache';

export interface Reply { status: number; type: string; body: string | Uint8Array; cache?: string }

export interface ViewContext { store: ViewStore; lists: ListCache; images: ImageSource; note: string | null }

const HTML = 'text/html; charset=utf-8';

export function notFound(what: string): Reply {
  return { status: 404, type: HTML, body: page('not found', `<h1>Not found</h1><p>${t(what)}</p>`) };
}

function syntheticBanner(ctx: ViewContext): string {
  const es = ctx.store.conditions();
  const synthetic = es.some((e) => e.synthetic === 1);
  return synthetic ? banner(true, provenanceLine({ synthetic, backends: [...new Set(es.map((e) => e.backend ?? 'unknown'))].sort() })) : '';
}

async function conditionRoute(ctx: ViewContext, id: string, q: URLSearchParams): Promise<Reply> {
  const e = ctx.store.experiment(id);
  if (!e) return notFound(`no analysed experiment '${id}' in this database`);
  const rows = await ctx.lists.get(e);
  const f = parseFilter(q);
  const p = pageOf(applyFilter(rows, f), f.page);
  return { status: 200, type: HTML, body: conditionPage(e, f, p, filterOptions(rows), rows.length, syntheticBanner(ctx)) };
}

async function sampleRoute(ctx: ViewContext, idText: string, q: URLSearchParams): Promise<Reply> {
  if (!/^\d{1,15}$/.test(idText)) return notFound(`'${idText}' is not a sample id`);
  const id = Number(idText);
  const v = sampleView(ctx.store, id);
  if (!v) return notFound(`no condition has sample ${id}`);
  let nav: SampleNav | null = null;
  const e = ctx.store.experiment(q.get('c') ?? '');
  if (e) {
    const f = parseFilter(q);
    const filtered = applyFilter(await ctx.lists.get(e), f);
    nav = { experimentId: e.experiment_id, label: e.label, query: { c: e.experiment_id, ...filterQuery(f) }, ...neighbours(filtered, id), total: filtered.length };
  }
  const sha = v.meta?.image_sha256 ?? null;
  const imageUrl = ctx.images.problem === null && sha ? `/image/${id}` : null;
  return { status: 200, type: HTML, body: samplePage(v, nav, syntheticBanner(ctx), imageUrl) };
}

async function imageRoute(ctx: ViewContext, idText: string): Promise<Reply> {
  if (!/^\d{1,15}$/.test(idText)) return notFound('not a sample id');
  const id = Number(idText);
  const e = ctx.store.conditions()[0];
  const row = e ? ctx.store.db.prepare('SELECT image_sha256 FROM predictions_full WHERE experiment_id = ? AND sample_id = ?').get(e.experiment_id, id) as { image_sha256: string | null } | undefined : undefined;
  const img = row ? await ctx.images.get(id, row.image_sha256) : null;
  if (!img) return notFound(`no image for sample ${id}${ctx.images.problem ? ` (${ctx.images.problem})` : ''}`);
  return { status: 200, type: img.mime, body: img.bytes, cache: 'private, max-age=3600' };
}

/** The reply for a GET of `url` (path and query). */
export async function route(ctx: ViewContext, url: URL): Promise<Reply> {
  const parts = url.pathname.split('/').slice(1).map((p) => decodeURIComponent(p));
  const [head, arg, ...rest] = parts;
  if (rest.length > 0) return notFound(url.pathname);
  if (url.pathname === '/') return { status: 200, type: HTML, body: suitePage(suite(ctx.store), ctx.note) };
  if (head === 'condition' && arg) return conditionRoute(ctx, arg, url.searchParams);
  if (head === 'sample' && arg) return sampleRoute(ctx, arg, url.searchParams);
  if (head === 'image' && arg) return imageRoute(ctx, arg);
  if (head === 'static' && arg === 'view.css') return { status: 200, type: 'text/css; charset=utf-8', body: VIEW_CSS, cache: 'public, max-age=86400' };
  if (head === 'static' && arg === 'view.js') return { status: 200, type: 'text/javascript; charset=utf-8', body: VIEW_JS, cache: 'public, max-age=86400' };
  return notFound(url.pathname);
}
