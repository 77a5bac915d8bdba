// One stream of the TypeScript twin: SSE framing over body bytes, one
// JSON.parse per event, and the same accounting as the C++ core
// (native/src/core/stream.cc). Tool calls are extracted at finish.
import type { ExtractedToolCall, RawStreamResult, StreamUsage } from '../types';
import { extractFromText, markNotOffered, serverCall } from './tool-calls';
import { wellFormed } from './well-formed';

export type StreamMode = 'sse' | 'text';

export const MALFORMED_EVENT = 'malformed SSE event: data is not valid JSON';

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export class TwinStream {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private line = '';
  private data: string[] = [];
  private text = '';
  private serverReasoning = '';
  private finishReason: string | null = null;
  private usage: StreamUsage | null = null;
  private error: RawStreamResult['error'] = null;
  private sawDone = false;
  private readonly times: number[] = [];
  private readonly tokens: number[] = [];
  private lastTime = 0;
  private pendingTokens = 0;
  private readonly server: Array<{ index: number; name: string; args: string }> = [];

  constructor(readonly mode: StreamMode, readonly knownTools: readonly string[], readonly offeredTools?: readonly string[]) {}

  feed(chunk: Uint8Array, timeMs: number): void {
    this.lastTime = timeMs;
    const s = this.decoder.decode(chunk, { stream: true });
    if (this.mode === 'text') {
      this.text += s;
      if (chunk.length > 0) this.account(1);
      return;
    }
    this.pendingTokens = 0;
    this.lines(s);
    if (this.pendingTokens > 0) this.account(this.pendingTokens);
  }

  private account(n: number): void {
    this.times.push(this.lastTime);
    this.tokens.push(n);
  }

  private lines(s: string): void {
    let from = 0;
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl < 0) {
        this.line += s.slice(from);
        return;
      }
      let l = this.line + s.slice(from, nl);
      this.line = '';
      from = nl + 1;
      if (l.endsWith('\r')) l = l.slice(0, -1);
      this.onLine(l);
    }
  }

  private onLine(l: string): void {
    if (l === '') {
      this.dispatch();
      return;
    }
    if (l.startsWith('data:')) this.data.push(l.charCodeAt(5) === 0x20 ? l.slice(6) : l.slice(5));
  }

  private dispatch(): void {
    if (this.data.length === 0) return;
    const payload = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
    this.data = [];
    if (payload === '') return;
    if (payload === '[DONE]') {
      this.sawDone = true;
      return;
    }
    let ev: unknown;
    try {
      ev = JSON.parse(payload);
    } catch {
      if (!this.error) this.error = { message: MALFORMED_EVENT, type: 'sse_malformed' };
      return;
    }
    const e = obj(ev);
    if (e) this.onEvent(e);
  }

  private onEvent(e: Record<string, unknown>): void {
    if ('error' in e || e['object'] === 'error') {
      const src = 'error' in e ? e['error'] : e;
      const eo = obj(src);
      const message = typeof src === 'string' ? src : eo && typeof eo['message'] === 'string' ? eo['message'] : 'unknown error';
      const err: NonNullable<RawStreamResult['error']> = { message: wellFormed(message) };
      if (eo && typeof eo['type'] === 'string') err.type = wellFormed(eo['type']);
      if (eo && typeof eo['code'] === 'number') err.code = eo['code'];
      if (!this.error) this.error = err;
      return;
    }
    const usage = obj(e['usage']);
    if (usage && typeof usage['prompt_tokens'] === 'number' && typeof usage['completion_tokens'] === 'number') {
      this.usage = { promptTokens: usage['prompt_tokens'], completionTokens: usage['completion_tokens'] };
    }
    const choices = e['choices'];
    const choice = Array.isArray(choices) ? obj(choices[0]) : null;
    if (!choice) return;
    if (typeof choice['finish_reason'] === 'string') this.finishReason = wellFormed(choice['finish_reason']);
    const delta = obj(choice['delta']);
    if (!delta) return;
    let carried = false;
    const content = delta['content'];
    if (typeof content === 'string' && content !== '') {
      this.text += wellFormed(content);
      carried = true;
    }
    const reasoning = 'reasoning' in delta ? delta['reasoning'] : delta['reasoning_content'];
    if (typeof reasoning === 'string' && reasoning !== '') {
      this.serverReasoning += wellFormed(reasoning);
      carried = true;
    }
    const calls = delta['tool_calls'];
    if (Array.isArray(calls)) {
      for (let k = 0; k < calls.length; k++) {
        const c = obj(calls[k]);
        if (!c) continue;
        const index = typeof c['index'] === 'number' ? c['index'] : k;
        let slot = this.server.find((x) => x.index === index);
        if (!slot) this.server.push((slot = { index, name: '', args: '' }));
        const fn = obj(c['function']);
        if (fn && typeof fn['name'] === 'string') slot.name += wellFormed(fn['name']);
        if (fn && typeof fn['arguments'] === 'string') slot.args += wellFormed(fn['arguments']);
        carried = true;
      }
    }
    if (carried) this.pendingTokens++;
  }

  finish(): RawStreamResult {
    const tail = this.decoder.decode();
    if (this.mode === 'text') this.text += tail;
    else {
      this.pendingTokens = 0;
      this.lines(tail);
      if (this.line !== '') {
        const l = this.line;
        this.line = '';
        this.onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
      }
      this.dispatch();
      if (this.pendingTokens > 0) this.account(this.pendingTokens);
    }
    const ex = extractFromText(this.text, this.knownTools, this.offeredTools);
    const serverCalls: ExtractedToolCall[] = this.server.map((c) => serverCall(c.name, c.args));
    markNotOffered(serverCalls, this.offeredTools);
    return {
      toolCalls: serverCalls.length ? [...serverCalls, ...ex.toolCalls] : ex.toolCalls,
      content: ex.content,
      reasoning: this.serverReasoning + ex.reasoning,
      text: this.text,
      finishReason: this.finishReason,
      usage: this.usage,
      error: this.error,
      firstTokenMs: this.times.length ? this.times[0]! : null,
      lastTokenMs: this.times.length ? this.times[this.times.length - 1]! : null,
      chunkTimesMs: this.times,
      chunkTokens: this.tokens,
      sawDone: this.sawDone,
    };
  }
}
