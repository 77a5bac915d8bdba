// What a simulated model can read from a request: which task it is (by the
// prompt markers of src/protocol/prompts.ts), the image, the tools offered and
// the tool responses it has been given since the task's last user turn.
import { PROMPT_MARKERS } from '../../protocol/prompts';
import type { ChatMessage, ChatRequest } from './request';

export type Task = 'verify' | 'predict' | 'stageScene' | 'stageAction' | 'stageWaypoints' | 'other';

export interface ToolAdvice {
  verdict: 'plausible' | 'doubtful' | 'implausible' | null;
  alternativeScene: string | null;
  isCorrect: boolean | null;
  trueScene: string | null;
  error: boolean;
}

export interface Conversation {
  task: Task;
  /** Text of the last user turn that carries a task marker. */
  taskText: string;
  imageUrls: string[];
  offered: string[];
  /** Tool responses after the task's user turn, in order. */
  advice: ToolAdvice[];
  /** Raw tool response texts (part of the decision key). */
  responseTexts: string[];
  /** Assistant turns since the task's user turn. */
  assistantTurns: number;
  /** Every message's text, for counting prompt tokens. */
  texts: string[];
}

function textOf(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (!Array.isArray(m.content)) return '';
  let s = '';
  for (const p of m.content) if (p && p.type === 'text' && typeof p.text === 'string') s += (s ? '\n' : '') + p.text;
  return s;
}

function imagesOf(m: ChatMessage, out: string[]): void {
  if (!Array.isArray(m.content)) return;
  for (const p of m.content) {
    if (!p || (p.type !== 'image_url' && p.type !== 'image')) continue;
    const u = typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
    if (typeof u === 'string') out.push(u);
  }
}

function taskOf(text: string): Task {
  if (text.includes(PROMPT_MARKERS.verify)) return 'verify';
  if (text.includes(PROMPT_MARKERS.predict)) return 'predict';
  if (text.includes(PROMPT_MARKERS.stageScene)) return 'stageScene';
  if (text.includes(PROMPT_MARKERS.stageAction)) return 'stageAction';
  if (text.includes(PROMPT_MARKERS.stageWaypoints)) return 'stageWaypoints';
  return 'other';
}

const VERDICTS = new Set(['plausible', 'doubtful', 'implausible']);

/** Reads a tool response as the model would: JSON when it is JSON. */
export function readAdvice(text: string): ToolAdvice {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { verdict: null, alternativeScene: null, isCorrect: null, trueScene: null, error: true };
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return {
    verdict: typeof o.verdict === 'string' && VERDICTS.has(o.verdict) ? (o.verdict as ToolAdvice['verdict']) : null,
    alternativeScene: typeof o.alternative_scene === 'string' ? o.alternative_scene : null,
    isCorrect: typeof o.is_correct === 'boolean' ? o.is_correct : null,
    trueScene: typeof o.true_scene === 'string' ? o.true_scene : null,
    error: 'error' in o,
  };
}

const TOOL_RESPONSE_RE = /<tool_response>\s*([\s\S]*?)\s*<\/tool_response>/g;

export function readConversation(req: ChatRequest): Conversation {
  const texts: string[] = [];
  const imageUrls: string[] = [];
  let taskIdx = -1;
  let task: Task = 'other';
  let taskText = '';
  req.messages.forEach((m, i) => {
    const t = textOf(m);
    texts.push(t);
    imagesOf(m, imageUrls);
    if (m.role === 'user') {
      const k = taskOf(t);
      if (k !== 'other' || taskIdx < 0) {
        task = k;
        taskText = t;
        taskIdx = i;
      }
    }
  });
  const responseTexts: string[] = [];
  let assistantTurns = 0;
  for (let i = taskIdx + 1; i < req.messages.length; i++) {
    const m = req.messages[i]!;
    if (m.role === 'assistant') assistantTurns++;
    else if (m.role === 'tool') responseTexts.push(texts[i]!);
    else if (m.role === 'user') {
      // Tool results may also come back as <tool_response> blocks in a user turn.
      for (const hit of texts[i]!.matchAll(TOOL_RESPONSE_RE)) responseTexts.push(hit[1]!);
    }
  }
  return {
    task,
    taskText,
    imageUrls,
    offered: req.tools ? req.tools.map((t) => t.function.name) : [],
    advice: responseTexts.map(readAdvice),
    responseTexts,
    assistantTurns,
    texts,
  };
}
