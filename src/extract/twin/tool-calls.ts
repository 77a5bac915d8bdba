// Tool-call rules over assistant text (TypeScript twin of
// native/src/core/tool_calls.cc). Behaviour is specified in docs/extract.md.
import type { CallStatus, ExtractedToolCall } from '../types';
import { parseLenient, skipWs, trimWs } from './lenient-json';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';

export interface TextExtraction {
  toolCalls: ExtractedToolCall[];
  content: string;
  reasoning: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function addRepair(list: string[], r: string): void {
  if (!list.includes(r)) list.push(r);
}

/** Index of the block's closing tag, skipping tags inside JSON strings; a
 * single quote opens a string only where a JSON value or key may start. */
export function findClose(s: string, start: number): { end: number; closed: boolean } {
  let quote = 0;
  let prev = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === 0x5c) i++;
      else if (c === quote) {
        quote = 0;
        prev = c;
      }
      continue;
    }
    if (c === 0x22) quote = c;
    else if (c === 0x27 && (prev === 0x7b || prev === 0x5b || prev === 0x3a || prev === 0x2c)) quote = c;
    else if (c === 0x3c && s.startsWith(CLOSE, i)) return { end: i, closed: true };
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) prev = c;
  }
  // Ending inside a string means an unbalanced quote hid the tag: fall back
  // to the first literal one. Otherwise the block really is unterminated.
  const j = quote ? s.indexOf(CLOSE, start) : -1;
  return j >= 0 ? { end: j, closed: true } : { end: s.length, closed: false };
}

/** Decodes a call object's name and arguments; `repairs` is extended. */
function toCall(item: unknown, repairs: string[], raw: string, closed: boolean, source: 'text' | 'server'): ExtractedToolCall {
  if (!isPlainObject(item) || typeof item['name'] !== 'string') {
    return { name: null, arguments: null, status: 'invalid_json', repairs, raw, source };
  }
  const name = item['name'];
  let args: unknown;
  let key: string | null = null;
  if (Object.prototype.hasOwnProperty.call(item, 'arguments')) key = 'arguments';
  else if (Object.prototype.hasOwnProperty.call(item, 'parameters')) {
    key = 'parameters';
    addRepair(repairs, 'parameters_key');
  }
  if (key === null) {
    args = {};
    addRepair(repairs, 'missing_arguments');
  } else {
    args = item[key];
    if (typeof args === 'string') {
      const r = parseLenient(args);
      addRepair(repairs, 'arguments_string');
      for (const x of r.repairs) addRepair(repairs, x);
      if (!r.ok) return { name, arguments: null, status: 'invalid_json', repairs, raw, source };
      args = r.value;
    }
  }
  let status: CallStatus;
  if (closed) status = repairs.length ? 'repaired' : 'ok';
  else status = repairs.includes('missing_brace') ? 'truncated' : 'unterminated';
  return { name, arguments: args, status, repairs, raw, source };
}

/** The calls in one `<tool_call>` block body. */
export function blockCalls(body: string, closed: boolean): ExtractedToolCall[] {
  const repairs: string[] = [];
  let t = trimWs(body);
  if (t.startsWith('```')) {
    const nl = t.indexOf('\n');
    t = nl < 0 ? t.slice(3) : t.slice(nl + 1);
    t = trimWs(t);
    if (t.endsWith('```')) t = trimWs(t.slice(0, -3));
    repairs.push('code_fence');
  }
  const r = parseLenient(t);
  for (const x of r.repairs) addRepair(repairs, x);
  const items = r.ok ? (Array.isArray(r.value) ? r.value : [r.value]) : [];
  if (items.length === 0) {
    return [{ name: null, arguments: null, status: r.ok || closed ? 'invalid_json' : 'truncated', repairs, raw: body, source: 'text' }];
  }
  return items.map((it) => toCall(it, [...repairs], body, closed, 'text'));
}

/** A structured call from a server-side parser, through the same checks. */
export function serverCall(name: string, argsText: string): ExtractedToolCall {
  if (trimWs(argsText) === '') return { name, arguments: {}, status: 'ok', repairs: [], raw: argsText, source: 'server' };
  const r = parseLenient(argsText);
  const repairs: string[] = [...r.repairs];
  if (!r.ok) return { name, arguments: null, status: 'invalid_json', repairs, raw: argsText, source: 'server' };
  return { name, arguments: r.value, status: repairs.length ? 'repaired' : 'ok', repairs, raw: argsText, source: 'server' };
}

function blocksIn(s: string, out: ExtractedToolCall[], status?: CallStatus): { content: string; sawTag: boolean } {
  let content = '';
  let pos = 0;
  let sawTag = false;
  for (;;) {
    const b = s.indexOf(OPEN, pos);
    if (b < 0) break;
    sawTag = true;
    content += s.slice(pos, b);
    const start = b + OPEN.length;
    const { end, closed } = findClose(s, start);
    for (const c of blockCalls(s.slice(start, end), closed)) out.push(status ? { ...c, status } : c);
    pos = closed ? end + CLOSE.length : s.length;
  }
  content += s.slice(pos);
  return { content, sawTag };
}

function qualifiesUntagged(v: unknown, known: readonly string[]): boolean {
  return isPlainObject(v) && typeof v['name'] === 'string' && known.includes(v['name']) &&
    (Object.prototype.hasOwnProperty.call(v, 'arguments') || Object.prototype.hasOwnProperty.call(v, 'parameters'));
}

function untaggedCall(v: unknown, repairs: string[], raw: string): ExtractedToolCall {
  const c = toCall(v, repairs, raw, true, 'text');
  if (c.status !== 'invalid_json') c.status = 'untagged';
  return c;
}

/** With no tags at all: a fenced json block, else a bare {"name", "arguments"}
 * object naming a known tool. Content is left as written. */
export function untaggedCalls(content: string, known: readonly string[]): ExtractedToolCall[] {
  const out: ExtractedToolCall[] = [];
  let i = 0;
  for (;;) {
    const f = content.indexOf('```', i);
    if (f < 0) break;
    const nl = content.indexOf('\n', f + 3);
    if (nl < 0) break;
    const end = content.indexOf('```', nl + 1);
    if (end < 0) break;
    const lang = trimWs(content.slice(f + 3, nl)).toLowerCase();
    if (lang === '' || lang === 'json') {
      const body = content.slice(nl + 1, end);
      const r = parseLenient(trimWs(body), 0, { eofClose: false });
      if (r.ok) {
        for (const it of Array.isArray(r.value) ? r.value : [r.value]) {
          if (qualifiesUntagged(it, known)) out.push(untaggedCall(it, [...r.repairs], body));
        }
      }
    }
    i = end + 3;
  }
  if (out.length) return out;
  i = 0;
  for (;;) {
    const b = content.indexOf('{', i);
    if (b < 0) break;
    const j = skipWs(content, b + 1);
    if (content.startsWith('"name"', j) || content.startsWith("'name'", j)) {
      const r = parseLenient(content, b, { whole: false, eofClose: false });
      if (r.ok && qualifiesUntagged(r.value, known)) {
        out.push(untaggedCall(r.value, [...r.repairs], content.slice(b, r.end)));
        i = r.end;
        continue;
      }
    }
    i = b + 1;
  }
  return out;
}

/** Splits assistant text into content, reasoning and tool calls. */
export function extractFromText(s: string, known: readonly string[]): TextExtraction {
  const calls: ExtractedToolCall[] = [];
  let content = '';
  let reasoning = '';
  let pos = 0;
  let sawTag = false;
  // Qwen3 templates may open <think> in the prompt, so only </think> appears.
  const firstOpen = s.indexOf(THINK_OPEN);
  const firstClose = s.indexOf(THINK_CLOSE);
  if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen)) {
    const inner = s.slice(0, firstClose);
    reasoning += inner;
    blocksIn(inner, calls, 'in_reasoning');
    pos = firstClose + THINK_CLOSE.length;
  }
  for (;;) {
    const a = s.indexOf(THINK_OPEN, pos);
    const b = s.indexOf(OPEN, pos);
    if (a < 0 && b < 0) break;
    if (a >= 0 && (b < 0 || a < b)) {
      content += s.slice(pos, a);
      const start = a + THINK_OPEN.length;
      const end = s.indexOf(THINK_CLOSE, start);
      const inner = end < 0 ? s.slice(start) : s.slice(start, end);
      reasoning += inner;
      blocksIn(inner, calls, 'in_reasoning');
      pos = end < 0 ? s.length : end + THINK_CLOSE.length;
    } else {
      sawTag = true;
      content += s.slice(pos, b);
      const start = b + OPEN.length;
      const { end, closed } = findClose(s, start);
      calls.push(...blockCalls(s.slice(start, end), closed));
      pos = closed ? end + CLOSE.length : s.length;
    }
  }
  content += s.slice(pos);
  if (!sawTag) calls.push(...untaggedCalls(content, known));
  return { toolCalls: calls, content, reasoning };
}
