// Filtering, sorting and paging of one condition's sample list. The filter
// travels in the query string, from the list to a sample and back, so the
// sample page can link to the previous and next sample of the same filter.
import type { ListRow } from './view-store';
import type { Query } from './html';

export const PAGE_SIZE = 100;

export const SORTS = {
  sample: (r: ListRow) => r.sample_id,
  latency: (r: ListRow) => r.total_ms ?? -1,
  calls: (r: ListRow) => r.n_calls,
  turns: (r: ListRow) => r.n_turns ?? -1,
} as const;
export type SortKey = keyof typeof SORTS;

export interface ListFilter {
  flip: string; tag: string; gt: string; fine: string; tool: string; status: string;
  sort: SortKey; dir: 'asc' | 'desc'; page: number;
}

/** The filter fields, in form order, with the value meaning "no tool". */
export const FILTER_FIELDS = ['flip', 'tag', 'gt', 'fine', 'tool', 'status'] as const;
export const NO_TOOL = '(none)';
export const UNLABELLED = '(unlabelled)';

function isSort(v: string): v is SortKey {
  return Object.prototype.hasOwnProperty.call(SORTS, v);
}

/** Unknown sort keys fall back to the default; filter values are matched
 * literally (an unknown value simply matches nothing). */
export function parseFilter(q: URLSearchParams): ListFilter {
  const s = (k: string): string => (q.get(k) ?? '').slice(0, 200);
  const sort = s('sort');
  const page = Number(s('page'));
  return {
    flip: s('flip'), tag: s('tag'), gt: s('gt'), fine: s('fine'), tool: s('tool'), status: s('status'),
    sort: isSort(sort) ? sort : 'sample',
    dir: s('dir') === 'desc' ? 'desc' : 'asc',
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

/** The filter as query parameters (defaults left out); `page` only when asked. */
export function filterQuery(f: ListFilter, withPage = false): Query {
  const q: Query = {};
  for (const k of FILTER_FIELDS) q[k] = f[k];
  if (f.sort !== 'sample') q['sort'] = f.sort;
  if (f.dir !== 'asc') q['dir'] = f.dir;
  if (withPage && f.page > 1) q['page'] = f.page;
  return q;
}

function matches(r: ListRow, f: ListFilter): boolean {
  return (!f.flip || r.flip === f.flip)
    && (!f.tag || r.tags.includes(f.tag))
    && (!f.gt || (r.gt ?? UNLABELLED) === f.gt)
    && (!f.fine || r.fine === f.fine)
    && (!f.tool || (f.tool === NO_TOOL ? r.tools.length === 0 : r.tools.includes(f.tool)))
    && (!f.status || r.status === f.status);
}

/** The filtered, sorted list (ties by sample id, so the order is stable). */
export function applyFilter(rows: ListRow[], f: ListFilter): ListRow[] {
  const key = SORTS[f.sort];
  const sign = f.dir === 'desc' ? -1 : 1;
  return rows.filter((r) => matches(r, f)).sort((x, y) => sign * (key(x) - key(y)) || x.sample_id - y.sample_id);
}

export interface ListPage { rows: ListRow[]; total: number; page: number; pages: number }

export function pageOf(filtered: ListRow[], page: number): ListPage {
  const pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
  const p = Math.min(page, pages);
  return { rows: filtered.slice((p - 1) * PAGE_SIZE, p * PAGE_SIZE), total: filtered.length, page: p, pages };
}

/** The values each filter can take in this condition, for the form's options. */
export function filterOptions(rows: ListRow[]): Record<(typeof FILTER_FIELDS)[number], string[]> {
  const sets = { flip: new Set<string>(), tag: new Set<string>(), gt: new Set<string>(), fine: new Set<string>(), tool: new Set<string>(), status: new Set<string>() };
  for (const r of rows) {
    sets.flip.add(r.flip);
    for (const x of r.tags) sets.tag.add(x);
    sets.gt.add(r.gt ?? UNLABELLED);
    if (r.fine !== null) sets.fine.add(r.fine);
    if (r.tools.length === 0) sets.tool.add(NO_TOOL);
    for (const x of r.tools) sets.tool.add(x);
    if (r.status !== null) sets.status.add(r.status);
  }
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return { flip: sorted(sets.flip), tag: sorted(sets.tag), gt: sorted(sets.gt), fine: sorted(sets.fine), tool: sorted(sets.tool), status: sorted(sets.status) };
}

/** Neighbours of `sampleId` in the filtered order (null at either end or when absent). */
export function neighbours(filtered: ListRow[], sampleId: number): { prev: number | null; next: number | null; index: number } {
  const i = filtered.findIndex((r) => r.sample_id === sampleId);
  if (i < 0) return { prev: null, next: null, index: -1 };
  return { prev: i > 0 ? filtered[i - 1]!.sample_id : null, next: i + 1 < filtered.length ? filtered[i + 1]!.sample_id : null, index: i };
}
