// `/condition/<experiment id>`: the condition's samples, filtered, sorted
// and paged on the server (a page is 100 rows whatever the suite's size).
import { ms } from '../../report/format';
import { FILTER_FIELDS, filterQuery, type ListFilter, type ListPage, type SortKey } from '../condition-list';
import { a, conditionHref, link, page, sampleHref, t, type Query } from '../html';
import type { Experiment, ListRow } from '../view-store';

const LABELS: Record<(typeof FILTER_FIELDS)[number], string> = { flip: 'flip vs greedy', tag: 'diagnostic tag', gt: 'GT scene', fine: 'fine class', tool: 'tool called', status: 'final status' };

function select(name: (typeof FILTER_FIELDS)[number], values: string[], current: string): string {
  const opts = ['', ...values].map((v) => `<option value="${a(v)}"${v === current ? ' selected' : ''}>${v === '' ? 'any' : t(v)}</option>`).join('');
  return `<label>${LABELS[name]}<select name="${name}">${opts}</select></label>`;
}

function filterForm(e: Experiment, f: ListFilter, options: Record<string, string[]>): string {
  const selects = FILTER_FIELDS.map((k) => select(k, options[k] ?? [], f[k])).join('');
  const keep = `<input type="hidden" name="sort" value="${a(f.sort)}"><input type="hidden" name="dir" value="${a(f.dir)}"><input type="hidden" name="page" value="">`;
  return `<form class="filters" method="get" action="${a(conditionHref(e.experiment_id))}">${selects}${keep}<button type="submit">filter</button> ${link(conditionHref(e.experiment_id), 'clear')}</form>`;
}

function sortHeader(e: Experiment, f: ListFilter, key: SortKey, label: string, cls = ''): string {
  const active = f.sort === key;
  const dir = active && f.dir === 'asc' ? 'desc' : 'asc';
  const q = { ...filterQuery(f), sort: key === 'sample' ? undefined : key, dir: dir === 'asc' ? undefined : dir };
  return `<th${cls ? ` class="${cls}"` : ''}>${link(conditionHref(e.experiment_id, q), `${label}${active ? (f.dir === 'asc' ? ' ▲' : ' ▼') : ''}`)}</th>`;
}

function row(r: ListRow, sampleQuery: Query): string {
  const tools = r.tools.length ? r.tools.map((x) => `<code>${t(x)}</code>`).join(' ') : '<span class="muted">none</span>';
  return `<tr><td>${link(sampleHref(r.sample_id, sampleQuery), String(r.sample_id))}</td><td class="l">${t(r.gt ?? 'unlabelled')}</td><td class="l">${t(r.fine ?? '')}</td>`
    + `<td class="l">${t(r.original ?? 'unparseable')}</td><td class="l">${t(r.final ?? 'unparseable')}</td><td class="l flip-${a(r.flip)}">${t(r.flip)}</td>`
    + `<td class="l ${r.status === 'ok' ? 'ok' : 'bad'}">${t(r.status ?? '')}</td><td>${r.n_turns ?? '–'}</td><td>${ms(r.total_ms)}</td>`
    + `<td class="l tools">${tools} <small>(${r.n_calls})</small></td><td class="l">${r.tags.map((x) => `<span class="tag">${t(x)}</span>`).join('')}</td></tr>`;
}

function pager(e: Experiment, f: ListFilter, p: ListPage): string {
  const to = (n: number): string => conditionHref(e.experiment_id, { ...filterQuery(f), page: n > 1 ? n : undefined });
  const first = (p.page - 1) * 100 + 1;
  const range = p.total ? `${first}–${first + p.rows.length - 1} of ${p.total}` : '0 samples';
  return `<div class="pager">${p.page > 1 ? link(to(p.page - 1), '← previous', '') : '<span class="muted">← previous</span>'}<span>${range} (page ${p.page} of ${p.pages})</span>${p.page < p.pages ? link(to(p.page + 1), 'next →') : '<span class="muted">next →</span>'}</div>`;
}

export function conditionPage(e: Experiment, f: ListFilter, p: ListPage, options: Record<string, string[]>, all: number, synthetic: string): string {
  const sampleQuery: Query = { c: e.experiment_id, ...filterQuery(f) };
  const head = `<tr>${sortHeader(e, f, 'sample', 'sample')}<th class="l">GT</th><th class="l">fine class</th><th class="l">original</th><th class="l">final</th><th class="l">flip</th><th class="l">final status</th>${sortHeader(e, f, 'turns', 'turns')}${sortHeader(e, f, 'latency', 'latency')}${sortHeader(e, f, 'calls', 'tools called', 'l')}<th class="l">tags</th></tr>`;
  const body = `${synthetic}<h1>${t(e.label)} <small>${t(e.experiment_id)}</small></h1>
<p class="muted">pipeline ${t(e.pipeline)} · ${all} samples · backend ${t(e.backend ?? 'unknown')}</p>${filterForm(e, f, options)}${pager(e, f, p)}
<table id="samples">${head}${p.rows.map((r) => row(r, sampleQuery)).join('')}</table>${p.total ? pager(e, f, p) : '<p>No sample matches this filter.</p>'}`;
  return page(`tce view: ${e.label}`, body, [[e.label, null]]);
}
