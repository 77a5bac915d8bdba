// vLLM's *streaming* hermes tool parser, re-run on the whole text after each
// engine step exactly as vLLM does. Follows
// vllm/tool_parsers/hermes_tool_parser.py (Hermes2ProToolParser,
// extract_tool_calls_streaming, _extract_content, _extract_tool_call_jsons,
// _extract_tool_name, _extract_tool_args; read at vllm-project/vllm@02bb669b).
// Block by block: a block whose "name" is readable is streamed as a tool call
// (id, type and name first, then the argument text found by brace matching,
// never JSON-validated); a block without a readable name stops the parse there
// ("Can't skip to tool i+1 if i isn't ready"), so it and every later block are
// dropped; no text after the first <tool_call> ever reaches `content`.
import { randomUUID } from 'node:crypto';

const START = '<tool_call>';
const END = '</tool_call>';

export interface DeltaToolCall {
  /** First delta of a call only. */
  id?: string;
  type?: 'function';
  index: number;
  function: { name?: string; arguments?: string };
}

/** vLLM's DeltaMessage as the hermes parser builds it: both fields are set
 * explicitly, so they appear on the wire even when null or empty. */
export interface ParserDelta {
  content: string | null;
  toolCalls: DeltaToolCall[];
}

/** vllm/tool_parsers/utils.py partial_tag_overlap: the longest suffix of
 * `text` that is a proper prefix of `tag`. */
export function partialTagOverlap(text: string, tag: string): number {
  for (let n = Math.min(text.length, tag.length - 1); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}

function isCompleteJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** (json_text, is_complete) per <tool_call> region. */
function toolCallJsons(text: string): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = [];
  let pos = 0;
  for (;;) {
    const start = text.indexOf(START, pos);
    if (start < 0) break;
    const jsonStart = start + START.length;
    const jsonEnd = text.indexOf(END, jsonStart);
    if (jsonEnd >= 0) {
      out.push([text.slice(jsonStart, jsonEnd).trim(), true]);
      pos = jsonEnd + END.length;
      continue;
    }
    let raw = text.slice(jsonStart);
    const overlap = partialTagOverlap(raw, END);
    if (overlap) raw = raw.slice(0, -overlap);
    const tc = raw.trim();
    out.push([tc, tc ? isCompleteJson(tc) : false]);
    break;
  }
  return out;
}

const NAME_RE = /"name"\s*:\s*"([^"]+)"/;
const ARGS_RE = /"arguments"\s*:\s*/;

/** The arguments value by brace/bracket matching, ignoring braces in strings. */
export function toolArgs(tcJson: string, isComplete: boolean): string | null {
  const m = ARGS_RE.exec(tcJson);
  if (!m) return null;
  let raw = tcJson.slice(m.index + m[0].length);
  if (!raw || (raw[0] !== '{' && raw[0] !== '[')) {
    if (isComplete) {
      raw = raw.trimEnd();
      if (raw.endsWith('}')) raw = raw.slice(0, -1).trimEnd();
    }
    return raw;
  }
  const open = raw[0]!;
  const close = open === '{' ? '}' : ']';
  let depth = 0;
  let inStr = false;
  let esc = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inStr) {
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return raw.slice(0, i + 1);
  }
  return raw;
}

/** One parser per streamed response (vLLM makes one per choice). */
export class HermesStreamParser {
  private sentContentIdx = 0;
  private readonly names: Array<string | undefined> = [];
  private readonly streamedArgs: string[] = [];

  constructor(private readonly newId: () => string = () => `chatcmpl-tool-${randomUUID().replace(/-/g, '')}`) {}

  private content(text: string): string | null {
    const at = text.indexOf(START);
    const sendable = at < 0 ? text.length - partialTagOverlap(text, START) : at;
    if (sendable <= this.sentContentIdx) return null;
    const c = text.slice(this.sentContentIdx, sendable);
    this.sentContentIdx = sendable;
    return c;
  }

  /** The delta for the text generated so far, or null when nothing is new. */
  step(currentText: string): ParserDelta | null {
    const content = this.content(currentText);
    const calls: DeltaToolCall[] = [];
    for (const [i, [tc, complete]] of toolCallJsons(currentText).entries()) {
      if (i >= this.names.length) {
        this.names.push(undefined);
        this.streamedArgs.push('');
      }
      if (this.names[i] === undefined) {
        const name = NAME_RE.exec(tc)?.[1];
        if (!name) break;
        this.names[i] = name;
        calls.push({ id: this.newId(), type: 'function', index: i, function: { name } });
      }
      const args = toolArgs(tc, complete);
      if (args !== null && args.length > this.streamedArgs[i]!.length) {
        const diff = args.slice(this.streamedArgs[i]!.length);
        this.streamedArgs[i] = args;
        if (diff) calls.push({ index: i, function: { arguments: diff } });
      }
    }
    return content || calls.length ? { content, toolCalls: calls } : null;
  }
}
