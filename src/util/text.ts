// Untrusted text (dataset values, model output, server replies) on its way
// to a terminal or a stored record: control characters made visible, so an
// escape sequence cannot repaint the terminal or hide what follows, and
// credentials taken out of URLs before they are stored or shown.

// C0 controls except tab and newline, DEL, and the C1 range (0x9b is a
// one-byte CSI on many terminals).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const CONTROL_AND_NEWLINES = /[\u0000-\u001f\u007f-\u009f]/g;

function visible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `s` with control characters written as `\u001b` etc.; tab and newline
 * stay unless `oneLine`. */
export function escapeControl(s: string, opts: { oneLine?: boolean } = {}): string {
  return s.replace(opts.oneLine ? CONTROL_AND_NEWLINES : CONTROL, visible);
}

/** A URL without its user name and password (`http://user:pw@host/` ->
 * `http://host/`); anything that is not a URL with credentials unchanged. */
export function stripUrlCredentials(url: string): string {
  if (!url.includes('@')) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!u.username && !u.password) return url;
  u.username = '';
  u.password = '';
  return u.href.endsWith('/') && !url.endsWith('/') ? u.href.slice(0, -1) : u.href;
}

/** A copy of a JSON-like value with credentials removed from every string
 * that is a URL. */
export function stripCredentialsDeep<T>(v: T): T {
  if (typeof v === 'string') return stripUrlCredentials(v) as T;
  if (Array.isArray(v)) return v.map(stripCredentialsDeep) as T;
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripCredentialsDeep(x)])) as T;
  return v;
}
