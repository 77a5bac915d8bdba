// Reads the addon's packed results (native/src/binding.cc, Packer): one
// string holding every string field back to back, and one Float64Array with
// the numbers and each string's length, in write order.
import type { CallStatus, ExtractedToolCall, RawStreamResult, StreamResult } from './types';
import type { NativePacked } from '../native/native-api';
import type { AnswerLine } from './answer';

/** Index = the C++ CallStatus enum value (native/src/core/tool_calls.h). */
const STATUS: readonly CallStatus[] = ['ok', 'repaired', 'unterminated', 'untagged', 'truncated', 'invalid_json', 'in_reasoning', 'function_eq', 'function_attr', 'not_offered'];

export class PackedReader {
  private pos = 0;
  private i = 0;
  private readonly s: string;
  private readonly n: Float64Array;
  constructor(packed: NativePacked) {
    [this.s, this.n] = packed;
  }
  num(): number {
    return this.n[this.i++]!;
  }
  /** A string field; length -1 means "the same as `same`" (sent once). */
  str(same?: string | (() => string)): string {
    const len = this.n[this.i++]!;
    if (len === -1 && same !== undefined) return typeof same === 'string' ? same : same();
    const end = this.pos + len;
    const out = this.s.slice(this.pos, end);
    this.pos = end;
    return out;
  }
  calls(): ExtractedToolCall[] {
    const count = this.num();
    const out: ExtractedToolCall[] = new Array(count);
    for (let k = 0; k < count; k++) {
      const flags = this.num();
      const status = STATUS[this.num()]!;
      const name = flags & 1 ? this.str() : null;
      const args = flags & 2 ? JSON.parse(this.str()) : null;
      const raw = this.str();
      const repairs = this.str();
      out[k] = { name, arguments: args, status, repairs: repairs === '' ? [] : repairs.split(','), raw, source: flags & 4 ? 'server' : 'text' };
    }
    return out;
  }
  /** The native final-answer line scan; null when the text was left to scanAnswerLines(). */
  answerLines(): AnswerLine[] | null {
    const count = this.num();
    if (count < 0) return null;
    const out: AnswerLine[] = new Array(count);
    for (let k = 0; k < count; k++) {
      const label = this.str();
      const value = this.str();
      out[k] = { label, value, at: this.num() };
    }
    return out;
  }
}

/** finish()'s fields except the final answer (read next: p.answerLines()). */
export function readFinish(p: PackedReader): RawStreamResult {
  const text = p.str();
  const content = p.str(text);
  const reasoning = p.str();
  const toolCalls = p.calls();
  const finishReason = p.num() ? p.str() : null;
  const usage = p.num() ? { promptTokens: p.num(), completionTokens: p.num() } : null;
  const ef = p.num();
  let error: StreamResult['error'] = null;
  if (ef & 1) {
    error = { message: p.str() };
    if (ef & 2) error.type = p.str();
    if (ef & 4) error.code = p.num();
  }
  const sawDone = p.num() === 1;
  const nTimes = p.num();
  const chunkTimesMs: number[] = new Array(nTimes);
  const chunkTokens: number[] = new Array(nTimes);
  for (let k = 0; k < nTimes; k++) {
    chunkTimesMs[k] = p.num();
    chunkTokens[k] = p.num();
  }
  return {
    toolCalls, content, reasoning, text, finishReason, usage, error, sawDone, chunkTimesMs, chunkTokens,
    firstTokenMs: nTimes ? chunkTimesMs[0]! : null,
    lastTokenMs: nTimes ? chunkTimesMs[nTimes - 1]! : null,
  };
}
