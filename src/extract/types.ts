// Contract of the stream engine (native addon + TypeScript twin). The driver
// and `tce extract` use only these types.
import type { StageName } from '../protocol/conditions';

/** Calls that were read (name and arguments) and go to the tool executor,
 * which judges the name: a not_offered call comes back as known_tool = 0.
 * function_eq / function_attr: the `<function=NAME>` / `<function name="NAME">`
 * syntaxes (docs/extract.md). */
export const ACCEPTED_CALL_STATUSES = ['ok', 'repaired', 'unterminated', 'untagged', 'function_eq', 'function_attr', 'not_offered'] as const;
export const REJECTED_CALL_STATUSES = ['truncated', 'invalid_json', 'in_reasoning'] as const;
export type CallStatus = (typeof ACCEPTED_CALL_STATUSES)[number] | (typeof REJECTED_CALL_STATUSES)[number];

export interface ExtractedToolCall {
  /** Tool name as written by the model; null when the JSON could not be read. */
  name: string | null;
  /** Parsed arguments object (after repairs); null when unreadable. */
  arguments: unknown;
  status: CallStatus;
  /** Repairs applied, e.g. 'single_quotes', 'trailing_comma', 'python_literals',
   * 'raw_newline', 'missing_brace', 'arguments_string', 'parameters_key', 'code_fence',
   * 'missing_arguments', 'unescaped_quote'. */
  repairs: string[];
  /** The raw text of the block (between the tags), kept verbatim. */
  raw: string;
  source: 'text' | 'server';
}

/** Parsed labelled fields of a final answer / prediction / staged turn. */
export interface FinalAnswer {
  /** 'ok': every expected field present and valid; 'missing': no block at all;
   * 'incomplete': some expected fields absent; 'invalid_value': a value outside its enum. */
  status: 'ok' | 'missing' | 'incomplete' | 'invalid_value';
  scene: string | null;
  longAction: string | null;
  latAction: string | null;
  /** REVISED: yes/no -> true/false. */
  revised: boolean | null;
  reason: string | null;
  waypoints: Array<[number, number]> | null;
  /** Field names whose value was present but not in its enum, with the raw value. */
  invalid: Array<{ field: string; value: string }>;
}

/** What kind of answer a text is expected to hold. */
export type AnswerKind = 'verify' | 'predict' | StageName;

export interface ExtractResult {
  toolCalls: ExtractedToolCall[];
  /** Assistant text outside tool-call blocks and reasoning. */
  content: string;
  /** Text inside <think>...</think>. */
  reasoning: string;
  finalAnswer: FinalAnswer;
}

export interface StreamUsage {
  promptTokens: number;
  completionTokens: number;
}

/** The outcome of one streamed chat completion, after finish(). */
export interface StreamResult extends ExtractResult {
  /** Full assistant text as generated (content deltas concatenated). */
  text: string;
  finishReason: string | null;
  usage: StreamUsage | null;
  /** A mid-stream {"error": ...} event or malformed SSE, if any. */
  error: { message: string; type?: string; code?: number } | null;
  /** Arrival time (ms, caller's clock) of the first content delta; null if none. */
  firstTokenMs: number | null;
  lastTokenMs: number | null;
  /** Arrival times (ms) of each body chunk that carried content, in order. */
  chunkTimesMs: number[];
  /** Content-delta counts per chunk, aligned with chunkTimesMs. */
  chunkTokens: number[];
  sawDone: boolean;
}

/** A stream's outcome before its final answer is parsed (what both engines
 * produce; the final answer is parsed once, in TypeScript). */
export type RawStreamResult = Omit<StreamResult, 'finalAnswer'>;

export interface StreamEngineOptions {
  /** Tool names the untagged fallback recognises. */
  knownTools: readonly string[];
  /** The tools offered to the model, when known: a readable call naming any
   * other tool gets status not_offered. Absent: not checked. */
  offeredTools?: readonly string[];
  answerKind: AnswerKind;
  /** 'sse' (default): the body of a streamed /v1/chat/completions response;
   * 'text': the assistant text itself, in arbitrary byte chunks. */
  mode?: 'sse' | 'text';
}

/** One engine per driver thread; many concurrent streams. */
export interface StreamEngine {
  readonly implementation: 'native' | 'typescript';
  /** Opens a stream (SSE body of one /v1/chat/completions response). */
  open(opts: StreamEngineOptions): number;
  /** Feeds body chunks for many streams in one call. */
  feed(batch: ReadonlyArray<{ handle: number; chunk: Uint8Array; timeMs: number }>): void;
  /** Ends the stream and returns everything; the handle is closed. */
  finish(handle: number): StreamResult;
  /** Discards a stream (on retry / abort). */
  close(handle: number): void;
}
