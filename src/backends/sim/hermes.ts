// What vLLM's hermes tool parser makes of generated text (server-parse
// mode): every <tool_call> body must be JSON {"name", "arguments"}; if any
// fails, the whole text stays content and no tool_calls are returned.
import { qwenJson } from './tool-call-text';

export interface ParsedCall {
  name: string;
  /** Arguments as json.dumps writes them (", " and ": " separators). */
  arguments: string;
}

const CALL_RE = /<tool_call>([\s\S]*?)<\/tool_call>|<tool_call>([\s\S]*)/g;

export function hermesParse(text: string): { content: string | null; calls: ParsedCall[] } | null {
  const first = text.indexOf('<tool_call>');
  if (first < 0) return null;
  const calls: ParsedCall[] = [];
  for (const m of text.matchAll(CALL_RE)) {
    const body = (m[1] ?? m[2] ?? '').trim();
    try {
      const v = JSON.parse(body) as { name?: unknown; arguments?: unknown };
      if (typeof v.name !== 'string') return null;
      const args = typeof v.arguments === 'string' ? JSON.parse(v.arguments) : v.arguments ?? {};
      calls.push({ name: v.name, arguments: qwenJson(args) });
    } catch {
      return null;
    }
  }
  const content = text.slice(0, first);
  return { content: content.length > 0 ? content : null, calls };
}
