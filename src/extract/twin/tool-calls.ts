// Tool-call rules over assistant text (TypeScript twin of
// native/src/core/tool_calls.cc). Behaviour is specified in docs/extract.md.
import { ACCEPTED_CALL_STATUSES, type CallStatus, type ExtractedToolCall } from '../types';
import { parseLenient, skipWs, trimWs } from './lenient-json';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const FN_OPEN = '<function';
const FN_CLOSE = '</function>';
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
export function findClose(s: string, start: number, close = CLOSE): { end: number; closed: boolean } {
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
    else if (c === 0x3c && s.startsWith(close, i)) return { end: i, closed: true };
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) prev = c;
  }
  // Ending inside a string means an unbalanced quote hid the tag: fall back
  // to the first literal one. Otherwise the block really is unterminated.
  const j = quote ? s.indexOf(close, start) : -1;
  return j >= 0 ? { end: j, closed: true } : { end: s.length, closed: false };
}

/** Arguments as written; a JSON string is read once more (repair
 * arguments_string). Not ok when that string is not JSON. */
function decodeArgs(args: unknown, repairs: string[]): { ok: boolean; value: unknown } {
  if (typeof args !== 'string') return { ok: true, value: args };
  const r = parseLenient(args);
  addRepair(repairs, 'arguments_string');
  for (const x of r.repairs) addRepair(repairs, x);
  return r;
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
    const d = decodeArgs(item[key], repairs);
    if (!d.ok) return { name, arguments: null, status: 'invalid_json', repairs, raw, source };
    args = d.value;
  }
  let status: CallStatus;
  if (closed) status = repairs.length ? 'repaired' : 'ok';
  else status = repairs.includes('missing_brace') ? 'truncated' : 'unterminated';
  return { name, arguments: args, status, repairs, raw, source };
}

/** The block body trimmed, without a code fence around it (repair code_fence). */
function unfenced(body: string, repairs: string[]): string {
  let t = trimWs(body);
  if (t.startsWith('```')) {
    const nl = t.indexOf('\n');
    t = nl < 0 ? t.slice(3) : t.slice(nl + 1);
    t = trimWs(t);
    if (t.endsWith('```')) t = trimWs(t.slice(0, -3));
    addRepair(repairs, 'code_fence');
  }
  return t;
}

/** The calls in one `<tool_call>` block body. */
export function blockCalls(body: string, closed: boolean): ExtractedToolCall[] {
  const repairs: string[] = [];
  const r = parseLenient(unfenced(body, repairs));
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

interface Tag {
  kind: 'think' | 'tool_call' | 'function';
  /** Index of its '<'. */
  at: number;
  /** Just past it. */
  body: number;
  /** Function tags: which syntax, and the tool name. */
  syntax?: 'function_eq' | 'function_attr';
  name?: string;
}

const isNameChar = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e;
const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** `<function=NAME>` or `<function name="NAME">` (either quote, whitespace
 * before `name` and before `>`), NAME of [A-Za-z0-9_.-]; s[i] starts "<function". */
function functionTag(s: string, i: number): Tag | null {
  let j = i + FN_OPEN.length;
  let quote = 0;
  let syntax: Tag['syntax'];
  if (s.charCodeAt(j) === 0x3d) {
    j++;
    syntax = 'function_eq';
  } else if (isWs(s.charCodeAt(j))) {
    while (isWs(s.charCodeAt(j))) j++;
    quote = s.charCodeAt(j + 5);
    if (!s.startsWith('name=', j) || (quote !== 0x22 && quote !== 0x27)) return null;
    j += 6;
    syntax = 'function_attr';
  } else return null;
  const a = j;
  while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
  if (j === a) return null;
  const name = s.slice(a, j);
  if (quote) {
    if (s.charCodeAt(j) !== quote) return null;
    j++;
    while (isWs(s.charCodeAt(j))) j++;
  }
  if (s.charCodeAt(j) !== 0x3e) return null;
  return { kind: 'function', at: i, body: j + 1, syntax, name };
}

/** The first <think> (when `think`), <tool_call> or function tag at or after pos. */
function nextTag(s: string, pos: number, think: boolean): Tag | null {
  let best: Tag | null = null;
  const a = think ? s.indexOf(THINK_OPEN, pos) : -1;
  if (a >= 0) best = { kind: 'think', at: a, body: a + THINK_OPEN.length };
  const b = s.indexOf(OPEN, pos);
  if (b >= 0 && (!best || b < best.at)) best = { kind: 'tool_call', at: b, body: b + OPEN.length };
  for (let f = s.indexOf(FN_OPEN, pos); f >= 0 && (!best || f < best.at); f = s.indexOf(FN_OPEN, f + 1)) {
    const t = functionTag(s, f);
    if (t) return t;
  }
  return best;
}

/** A function block: the name comes from the tag, the body is the arguments. */
function functionCall(body: string, t: Tag, closed: boolean): ExtractedToolCall {
  const name = t.name!;
  const repairs: string[] = [];
  const v = unfenced(body, repairs);
  const call = (status: CallStatus, args: unknown): ExtractedToolCall => ({ name, arguments: args, status, repairs, raw: body, source: 'text' });
  if (v === '') {
    if (!closed) return call('truncated', null);
    addRepair(repairs, 'missing_arguments');
    return call(t.syntax!, {});
  }
  const r = parseLenient(v);
  for (const x of r.repairs) addRepair(repairs, x);
  if (!r.ok) return call(closed ? 'invalid_json' : 'truncated', null);
  const d = decodeArgs(r.value, repairs);
  if (!d.ok) return call('invalid_json', null);
  return call(!closed && repairs.includes('missing_brace') ? 'truncated' : t.syntax!, d.value);
}

/** The calls of the block opened by `t`, and the index just past it. */
function block(s: string, t: Tag): { calls: ExtractedToolCall[]; next: number } {
  const fn = t.kind === 'function';
  const close = fn ? FN_CLOSE : CLOSE;
  const { end, closed } = findClose(s, t.body, close);
  const body = s.slice(t.body, end);
  return { calls: fn ? [functionCall(body, t, closed)] : blockCalls(body, closed), next: closed ? end + close.length : s.length };
}

/** Calls written inside reasoning: in_reasoning, never executed. */
function reasoningBlocks(s: string, out: ExtractedToolCall[]): void {
  let pos = 0;
  for (let t = nextTag(s, pos, false); t; t = nextTag(s, pos, false)) {
    const b = block(s, t);
    for (const c of b.calls) out.push({ ...c, status: 'in_reasoning' });
    pos = b.next;
  }
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

/** Statuses the offered-set check applies to (the readable calls). */
const CHECKED = new Set<CallStatus>(ACCEPTED_CALL_STATUSES.filter((s) => s !== 'not_offered'));

/** Accepted calls naming a tool outside `offered` become not_offered. */
export function markNotOffered(calls: ExtractedToolCall[], offered: readonly string[] | undefined): void {
  if (!offered) return;
  for (const c of calls) if (CHECKED.has(c.status) && !offered.includes(c.name!)) c.status = 'not_offered';
}

/** Splits assistant text into content, reasoning and tool calls. `offered`:
 * the tools offered to the model, when known. */
export function extractFromText(s: string, known: readonly string[], offered?: readonly string[]): TextExtraction {
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
    reasoningBlocks(inner, calls);
    pos = firstClose + THINK_CLOSE.length;
  }
  for (let t = nextTag(s, pos, true); t; t = nextTag(s, pos, true)) {
    content += s.slice(pos, t.at);
    if (t.kind === 'think') {
      const end = s.indexOf(THINK_CLOSE, t.body);
      const inner = end < 0 ? s.slice(t.body) : s.slice(t.body, end);
      reasoning += inner;
      reasoningBlocks(inner, calls);
      pos = end < 0 ? s.length : end + THINK_CLOSE.length;
    } else {
      sawTag = true;
      const b = block(s, t);
      calls.push(...b.calls);
      pos = b.next;
    }
  }
  content += s.slice(pos);
  if (!sawTag) calls.push(...untaggedCalls(content, known));
  markNotOffered(calls, offered);
  return { toolCalls: calls, content, reasoning };
}
