// Model output and tool responses are untrusted: everything that reaches
// HTML goes through escapeHtml (text and attribute values alike).
import { escapeControl } from '../util/text';

const MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => MAP[c]!);
}

// Schemes that run code or smuggle content when a Markdown viewer follows a link.
const UNSAFE_LINK = /\[([^\]]*)\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:[^)]*\)/gi;

/** Markdown table cells and inline text: one line, no pipes, no raw HTML,
 * control characters visible, links with unsafe schemes reduced to their
 * text and no new links formed (`](` escaped; `<...>` autolinks are already
 * broken by the `&lt;`). */
export function escapeMd(s: unknown): string {
  return escapeControl(String(s ?? '').replace(/[\r\n]+/g, ' '), { oneLine: true })
    .replace(UNSAFE_LINK, '$1')
    .replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\]\(/g, ']\\(');
}
