// JSON as Python's `json` module writes and reads it. The reference MDS
// writer produces index.json, the shard config and `json` columns with
// `json.dumps` defaults (", "/": " separators, ensure_ascii, NaN and
// Infinity allowed), so byte-compatible output needs the same formatting and
// reading real data needs the bare NaN/Infinity tokens.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Python's repr(float) for a non-integral or huge number: shortest
 * round-trip digits (as JS), exponent form outside [1e-4, 1e16). */
function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e16 || (abs !== 0 && abs < 1e-4)) {
    const [mant, exp] = n.toExponential().split('e') as [string, string];
    const e = Number(exp);
    const sign = e < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(n);
}

function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += s[i];
  }
  return out + '"';
}

/** `json.dumps(value, sort_keys=sortKeys)` with Python's default separators.
 * Integral JS numbers are written as Python ints (JS cannot tell 1 from 1.0). */
export function pyJsonDumps(value: JsonValue, opts: { sortKeys?: boolean } = {}): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return pyFloat(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) return '[' + value.map((v) => pyJsonDumps(v, opts)).join(', ') + ']';
  const keys = Object.keys(value);
  if (opts.sortKeys) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return '{' + keys.map((k) => `${pyString(k)}: ${pyJsonDumps(value[k]!, opts)}`).join(', ') + '}';
}

/** JSON.parse that also accepts Python's bare NaN / Infinity / -Infinity.
 * The fast path is the built-in parser; the tokens are rewritten only when
 * it fails, outside string literals. */
export function parsePythonJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
  }
  const marker = '\u0000tce-nonfinite:';
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') { out += text[i + 1] ?? ''; i++; } else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') { inString = true; out += ch; continue; }
    const rest = text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : text.startsWith('NaN', i) ? 'NaN' : null;
    if (rest) { out += JSON.stringify(marker + rest); i += rest.length - 1; continue; }
    out += ch;
  }
  return JSON.parse(out, (_k, v: unknown) => {
    if (typeof v === 'string' && v.startsWith(marker)) {
      const t = v.slice(marker.length);
      return t === 'NaN' ? NaN : t === 'Infinity' ? Infinity : -Infinity;
    }
    return v;
  }) as JsonValue;
}
