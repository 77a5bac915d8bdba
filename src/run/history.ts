// How one turn's tool calls go back into the conversation for the next turn.
// Client parse mode: the assistant's raw text carries the calls and every
// call gets a tool message. Server parse mode (vLLM's hermes parser): vLLM
// removed the call text from `content` and the Qwen3-VL chat template renders
// an assistant's calls only from `message.tool_calls`, whose `arguments` vLLM
// json.loads (invalid JSON is a 400). So the assistant message carries
// `tool_calls` with ids the tool messages answer and arguments re-serialised
// as JSON; a call that cannot be replayed so (unreadable arguments, or found
// in the text instead of parsed by the server) is recorded but neither
// replayed nor answered.
import type { ExtractedToolCall } from '../extract/types';
import { ACCEPTED_CALL_STATUSES } from '../extract/types';
import type { AssistantToolCall, ChatMessage, TurnParams } from './chat-request';

const ACCEPTED = new Set<string>(ACCEPTED_CALL_STATUSES);

export interface HistoryEntry {
  call: ExtractedToolCall;
  /** tool_call_id of the tool message answering it; null: not replayed. */
  id: string | null;
  /** Why the call is not replayed. */
  skip: string | null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The arguments as a JSON object: as parsed, or the object inside a JSON
 * string (vLLM streams a string-valued "arguments" raw, quotes and all). */
function argumentsObject(c: ExtractedToolCall): Record<string, unknown> | null {
  if (isPlainObject(c.arguments)) return c.arguments;
  if (typeof c.arguments !== 'string') return null;
  try {
    const inner: unknown = JSON.parse(c.arguments);
    return isPlainObject(inner) ? inner : null;
  } catch {
    return null;
  }
}

function whyNotReplayed(c: ExtractedToolCall): string | null {
  if (c.source !== 'server') return 'not replayed: found in the text, not parsed by the server';
  if (!ACCEPTED.has(c.status) || c.name === null) return `not replayed: the server's call is unreadable (${c.status})`;
  if (argumentsObject(c) === null) return 'not replayed: arguments are not a JSON object';
  return null;
}

/** Which calls of turn `turn` are answered, and with which ids. */
export function historyEntries(mode: TurnParams['parseMode'], made: readonly ExtractedToolCall[], turn: number): HistoryEntry[] {
  return made.map((call, i) => {
    const skip = mode === 'server' ? whyNotReplayed(call) : null;
    return { call, id: skip ? null : `call_${turn}_${i}`, skip };
  });
}

/** The assistant message as the next request carries it. */
export function assistantMessage(mode: TurnParams['parseMode'], text: string, entries: readonly HistoryEntry[]): ChatMessage {
  if (mode !== 'server') return { role: 'assistant', content: text };
  const calls: AssistantToolCall[] = [];
  for (const e of entries) {
    if (e.id === null) continue;
    calls.push({ id: e.id, type: 'function', function: { name: e.call.name!, arguments: JSON.stringify(argumentsObject(e.call)) } });
  }
  return calls.length > 0 ? { role: 'assistant', content: text, tool_calls: calls } : { role: 'assistant', content: text };
}
