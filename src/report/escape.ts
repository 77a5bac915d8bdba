// Model output and tool responses are untrusted: everything that reaches
// HTML goes through escapeHtml (text and attribute values alike).
const MAP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => MAP[c]!);
}

/** Markdown table cells and inline text: no pipes, no raw HTML, one line. */
export function escapeMd(s: unknown): string {
  return String(s ?? '').replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
