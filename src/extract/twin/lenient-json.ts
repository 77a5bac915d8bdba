// Tolerant JSON reader for small-model tool calls. It accepts strict JSON
// plus the listed repairs and reports which ones it needed; the C++ core
// (native/src/core/json_value.cc) implements the same grammar so both
// engines agree byte for byte (test 12 checks it).

export type Repair = 'single_quotes' | 'trailing_comma' | 'python_literals' | 'raw_newline' | 'missing_brace' | 'unescaped_quote';

export interface LenientResult {
  ok: boolean;
  value: unknown;
  repairs: Repair[];
  /** Index just past the value (only meaningful when ok). */
  end: number;
}

/** Deeper nesting is rejected (the C++ parser recurses). */
export const MAX_DEPTH = 256;

const WS = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

export function skipWs(s: string, i: number): number {
  while (i < s.length && WS(s.charCodeAt(i))) i++;
  return i;
}

/** Trims only JSON whitespace, never other Unicode spaces (as C++ does). */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && WS(s.charCodeAt(a))) a++;
  while (b > a && WS(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

class Fail extends Error {}
const FAIL = new Fail();

class Reader {
  pos: number;
  repairs: Repair[] = [];
  constructor(readonly s: string, start: number, readonly eofClose: boolean) {
    this.pos = start;
  }
  repair(r: Repair): void {
    if (!this.repairs.includes(r)) this.repairs.push(r);
  }
  ws(): void {
    this.pos = skipWs(this.s, this.pos);
  }
  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw FAIL;
    this.ws();
    const s = this.s;
    if (this.pos >= s.length) throw FAIL;
    const c = s.charCodeAt(this.pos);
    if (c === 0x7b) return this.object(depth);
    if (c === 0x5b) return this.array(depth);
    if (c === 0x22 || c === 0x27) return this.string(true);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    for (const [word, v, py] of LITERALS) {
      if (s.startsWith(word, this.pos)) {
        if (py) this.repair('python_literals');
        this.pos += word.length;
        return v;
      }
    }
    throw FAIL;
  }
  /** After a member/element: returns true when the container closed. */
  private closeOrComma(close: number): boolean {
    this.ws();
    if (this.pos >= this.s.length) {
      if (!this.eofClose) throw FAIL;
      this.repair('missing_brace');
      return true;
    }
    const c = this.s.charCodeAt(this.pos);
    if (c === close) {
      this.pos++;
      return true;
    }
    if (c !== 0x2c) throw FAIL;
    this.pos++;
    this.ws();
    if (this.pos >= this.s.length) {
      if (!this.eofClose) throw FAIL;
      this.repair('trailing_comma');
      this.repair('missing_brace');
      return true;
    }
    if (this.s.charCodeAt(this.pos) === close) {
      this.repair('trailing_comma');
      this.pos++;
      return true;
    }
    return false;
  }
  private object(depth: number): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.pos >= this.s.length) {
      if (!this.eofClose) throw FAIL;
      this.repair('missing_brace');
      return out;
    }
    if (this.s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      const q = this.s.charCodeAt(this.pos);
      if (q !== 0x22 && q !== 0x27) throw FAIL;
      const key = this.string(false);
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 0x3a) throw FAIL;
      this.pos++;
      const v = this.value(depth + 1);
      // JSON.parse semantics: "__proto__" is an own property, last key wins.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      if (this.closeOrComma(0x7d)) return out;
    }
  }
  private array(depth: number): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.ws();
    if (this.pos >= this.s.length) {
      if (!this.eofClose) throw FAIL;
      this.repair('missing_brace');
      return out;
    }
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      if (this.closeOrComma(0x5d)) return out;
    }
  }
  private number(): number {
    NUMBER_RE.lastIndex = this.pos;
    const m = NUMBER_RE.exec(this.s);
    if (!m) throw FAIL;
    this.pos += m[0].length;
    return Number(m[0]);
  }
  /** `value`: a string value (not a key), where an unescaped inner `"` that
   * cannot end the string is kept (repair unescaped_quote; docs/extract.md). */
  string(value: boolean): string {
    const s = this.s;
    const quote = s.charCodeAt(this.pos);
    if (quote === 0x27) this.repair('single_quotes');
    let i = ++this.pos;
    let out = '';
    let from = i;
    for (;;) {
      if (i >= s.length) throw FAIL;
      const c = s.charCodeAt(i);
      if (c === quote) {
        if (value && quote === 0x22 && !canEndString(s, i + 1)) {
          this.repair('unescaped_quote');
          i++;
          continue;
        }
        out += s.slice(from, i);
        this.pos = i + 1;
        return out;
      }
      if (c < 0x20) {
        this.repair('raw_newline');
        i++;
        continue;
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(from, i);
      const e = s.charCodeAt(i + 1);
      i += 2;
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x27:
          if (quote !== 0x27) throw FAIL;
          out += "'";
          break;
        case 0x75: {
          const hi = hex4(s, i);
          if (hi < 0) throw FAIL;
          i += 4;
          if (hi >= 0xd800 && hi <= 0xdbff && s.charCodeAt(i) === 0x5c && s.charCodeAt(i + 1) === 0x75) {
            const lo = hex4(s, i + 2);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              out += String.fromCharCode(hi, lo);
              i += 6;
              break;
            }
          }
          // A lone surrogate cannot be UTF-8 (the C++ side); both sides use U+FFFD.
          out += hi >= 0xd800 && hi <= 0xdfff ? '\ufffd' : String.fromCharCode(hi);
          break;
        }
        default:
          throw FAIL;
      }
      from = i;
    }
  }
}

/** Whether a `"` just before s[i] could close a string: the next
 * non-whitespace character may follow a string (or a missing comma: `"`,
 * `{`, `[`), or the text ends there. */
function canEndString(s: string, i: number): boolean {
  i = skipWs(s, i);
  if (i >= s.length) return true;
  const c = s.charCodeAt(i);
  return c === 0x2c || c === 0x3a || c === 0x7d || c === 0x5d || c === 0x22 || c === 0x7b || c === 0x5b;
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS: ReadonlyArray<readonly [string, unknown, boolean]> = [
  ['true', true, false], ['false', false, false], ['null', null, false],
  ['True', true, true], ['False', false, true], ['None', null, true],
];

function hex4(s: string, i: number): number {
  if (i + 4 > s.length) return -1;
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = s.charCodeAt(i + k);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Parses one value at `start`. `whole`: only whitespace may follow.
 * `eofClose`: the text may end inside containers (repair missing_brace). */
export function parseLenient(s: string, start = 0, opts: { whole?: boolean; eofClose?: boolean } = {}): LenientResult {
  const r = new Reader(s, start, opts.eofClose ?? true);
  try {
    const value = r.value(0);
    if (opts.whole ?? true) {
      r.ws();
      if (r.pos !== s.length) return { ok: false, value: null, repairs: r.repairs, end: r.pos };
    }
    return { ok: true, value, repairs: r.repairs, end: r.pos };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, value: null, repairs: r.repairs, end: r.pos };
    throw e;
  }
}
