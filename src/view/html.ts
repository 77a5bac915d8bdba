// HTML building blocks of the viewer. Every string that came from a model,
// a tool or the dataset goes through `t` (text) or `a` (attribute value);
// links are only ever built here from our own route names plus
// encodeURIComponent, so no stored value can become a javascript: URL.
import { escapeHtml } from '../report/escape';
import { STATIC_VERSION } from './assets';

// C0/C1 controls (except tab and newline) and bidi overrides are shown as
// visible \uXXXX marks: they would otherwise be invisible or reorder text.
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** Untrusted text as HTML text. */
export function t(s: unknown): string {
  return escapeHtml(s).replace(INVISIBLE, (c) => `<span class="ctl">\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}</span>`);
}

/** Untrusted text as a double-quoted attribute value. */
export const a = (s: unknown): string => escapeHtml(s).replace(INVISIBLE, '\ufffd');

export type Query = Record<string, string | number | null | undefined>;

/** `?k=v&...` with empty values left out; the result still needs `a()` in an attribute. */
export function qs(q: Query): string {
  const parts = Object.entries(q).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export const conditionHref = (experimentId: string, q: Query = {}): string => `/condition/${encodeURIComponent(experimentId)}${qs(q)}`;
export const sampleHref = (sampleId: number, q: Query = {}): string => `/sample/${sampleId}${qs(q)}`;

export function link(href: string, label: string, cls = ''): string {
  return `<a href="${a(href)}"${cls ? ` class="${cls}"` : ''}>${label}</a>`;
}

export const num = (x: number | null | undefined, d = 0): string => (x != null && Number.isFinite(x) ? x.toFixed(d) : '–');

export function banner(synthetic: boolean, line: string): string {
  return `<p class="banner${synthetic ? ' synthetic' : ''}" id="provenance">${t(line)}</p>`;
}

/** The whole document: styles and script are same-origin files (the CSP
 * forbids inline ones), nothing is loaded from elsewhere. */
export function page(title: string, body: string, crumbs: Array<[string, string | null]> = []): string {
  const nav = [['tce view', '/'] as [string, string | null], ...crumbs].map(([label, href]) => (href ? link(href, t(label)) : `<span>${t(label)}</span>`)).join(' <span class="sep">/</span> ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t(title)}</title><link rel="stylesheet" href="/static/view.css?v=${STATIC_VERSION}"><script src="/static/view.js?v=${STATIC_VERSION}" defer></script></head>
<body><nav class="crumbs">${nav}</nav>
${body}
</body></html>
`;
}
