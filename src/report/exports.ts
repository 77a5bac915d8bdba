// Training and replay exports from the turns the driver recorded:
//  - SFT (spec 002): one chat example per assistant turn whose tool calls
//    were all valid (parsed, known tool, required args, schema-valid,
//    executed ok): the turn's full request messages, then the calls as the
//    assistant target in Qwen's <tool_call> format.
//  - OpenAI Batch: every recorded request as a /v1/chat/completions line.
// The driver stores each turn compactly (src/run/chat-request.ts): only the
// messages the turn added (from index `messages_from`), tool names instead of
// their schemas, images as `sha256:<hex>#sample=<id>` references, long texts
// as parts (src/store/request-parts.ts). Requests are rebuilt here turn by
// turn.
import fs from 'node:fs';
import path from 'node:path';
import type { DB } from '../store/db';
import { writeError } from '../store/durable-file';
import { LineSink, writeAllSync } from '../util/line-sink';
import type { StoredToolCall } from '../store/rows';
import { openAiTools } from '../tools/registry';
import { PartsCache, storedRequestOf, type CallResults } from '../store/request-parts';
import { requestBody, type ChatMessage } from '../run/chat-request';
import type { Endpoint } from '../backends/types';

export interface ExportStats { file: string; written: number; skipped: Record<string, number> }

interface Msg { role: string; content: unknown }
interface Stored { messages_from?: unknown; messages?: unknown; tools?: unknown; [k: string]: unknown }

/** How image parts are written: as recorded (references), replaced by a
 * "<image>" text placeholder, or resolved to data URLs by `inline`. */
export type ImageMode = { kind: 'ref' } | { kind: 'strip' } | { kind: 'inline'; resolve: (ref: string) => string };

export const IMAGE_REF = /^sha256:([0-9a-f]{64})#sample=(\d+)$/;

function mapImages(messages: Msg[], mode: ImageMode): Msg[] {
  if (mode.kind === 'ref') return messages;
  return messages.map((m) => (Array.isArray(m.content)
    ? {
      ...m,
      content: (m.content as Array<{ type?: string; image_url?: { url?: string } }>).map((p) => {
        if (!p || p.type !== 'image_url') return p;
        if (mode.kind === 'strip') return { type: 'text', text: '<image>' };
        return { ...p, image_url: { ...p.image_url, url: mode.resolve(p.image_url?.url ?? '') } };
      }),
    }
    : m));
}

export interface RebuiltTurn {
  experiment_id: string; sample_id: number; turn_index: number; stage: string;
  /** The full request body (messages complete, tool schemas expanded), or why it could not be rebuilt. */
  body: Record<string, unknown> | null;
  problem: string | null;
}

interface TurnRow { experiment_id: string; sample_id: number; turn_index: number; stage: string; request_json: string | null; request_params: string | null; response_text: string | null }

/** Every recorded request with its conversation rebuilt from the turns before it. */
export function* rebuiltTurns(db: DB, opts: { experimentIds?: string[]; images?: ImageMode; one?: { experimentId: string; sampleId: number; upToTurn: number } } = {}): Generator<RebuiltTurn> {
  const only = opts.experimentIds && opts.experimentIds.length ? new Set(opts.experimentIds) : null;
  const images = opts.images ?? { kind: 'ref' };
  let key = '';
  let conversation: Msg[] = [];
  const parts = new PartsCache(db);
  let prevReply: string | null = null;
  let results: CallResults = new Map();
  const resultsOf = db.prepare('SELECT tool_call_order AS k, tool_result_json AS v FROM tool_calls_full WHERE experiment_id = ? AND sample_id = ?');
  const imageOf = db.prepare('SELECT image_sha256 FROM predictions_full WHERE experiment_id = ? AND sample_id = ?').pluck();
  let image: string | null = null;
  // One sample's turns (tce show-request) or all of them.
  const o = opts.one;
  const rows = db.prepare(`SELECT experiment_id, sample_id, turn_index, stage, request_json, request_params, response_text FROM turns_full${o ? ' WHERE experiment_id = ? AND sample_id = ? AND turn_index <= ?' : ''} ORDER BY experiment_id, sample_id, turn_index`);
  const it = (o ? rows.iterate(o.experimentId, o.sampleId, o.upToTurn) : rows.iterate()) as Iterable<TurnRow>;
  for (const t of it) {
    if (only && !only.has(t.experiment_id)) continue;
    const k = `${t.experiment_id}\u0000${t.sample_id}`;
    if (k !== key) {
      key = k; conversation = []; prevReply = null;
      results = new Map((resultsOf.all(t.experiment_id, t.sample_id) as Array<{ k: number; v: string | null }>).map((r) => [r.k, r.v]));
      const sha = imageOf.get(t.experiment_id, t.sample_id) as string | null | undefined;
      image = sha ? `sha256:${sha}#sample=${t.sample_id}` : null;
    }
    const reply = prevReply;
    prevReply = t.response_text;
    const base = { experiment_id: t.experiment_id, sample_id: t.sample_id, turn_index: t.turn_index, stage: t.stage };
    let stored: Stored;
    try {
      stored = storedRequestOf(t.request_json, parts.get(t.experiment_id), reply, results, t.request_params, image) as Stored;
    } catch (e) {
      yield { ...base, body: null, problem: (e as Error).message };
      continue;
    }
    if (!stored || typeof stored !== 'object' || !Array.isArray(stored.messages)) { yield { ...base, body: null, problem: 'request_json missing or without messages' }; continue; }
    const from = typeof stored.messages_from === 'number' ? stored.messages_from : 0;
    conversation = [...conversation.slice(0, from), ...(stored.messages as Msg[])];
    const { messages_from: _f, messages: _m, tools: names, stream: _s, stream_options: _o, ...params } = stored;
    let tools: object[] | undefined;
    if (Array.isArray(names) && names.length > 0) {
      try {
        tools = names.every((n) => typeof n === 'string') ? openAiTools(names as string[]) : (names as object[]);
      } catch (e) {
        yield { ...base, body: null, problem: `tool definitions: ${(e as Error).message}` };
        continue;
      }
    }
    // An image that cannot be resolved throws: the user must fix the dataset path.
    yield { ...base, body: { ...params, messages: mapImages(conversation, images), ...(tools ? { tools } : {}) }, problem: null };
  }
}

/** The exact text the driver sent for a rebuilt turn (images inlined):
 * the body goes back through the driver's own requestBody, so keys come out
 * in the order they were sent. */
export function sentBody(body: Record<string, unknown>): string {
  const num = (k: string): number => {
    const v = body[k];
    if (typeof v !== 'number') throw new Error(`stored request has no numeric ${k}`);
    return v;
  };
  const tools = Array.isArray(body['tools']) ? (body['tools'] as object[]) : [];
  const params = { tools, toolNames: [], parseMode: body['tool_choice'] === 'auto' ? 'server' : 'client', maxTokens: num('max_completion_tokens'), temperature: num('temperature'), seed: num('seed') } as const;
  return JSON.stringify(requestBody({ model: body['model'] } as Endpoint, body['messages'] as ChatMessage[], params, true)); // every turn streams (run/turn.ts)
}

class JsonlOut {
  private fd: number;
  private readonly lines: LineSink;
  written = 0;
  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const fd = (this.fd = fs.openSync(`${file}.tmp`, 'w'));
    this.lines = new LineSink((bytes) => {
      try {
        writeAllSync(fd, bytes);
      } catch (e) {
        throw writeError(file, e);
      }
    });
  }
  push(v: unknown): void {
    this.lines.line(JSON.stringify(v));
    this.written++;
  }
  close(): void {
    this.lines.flush();
    try {
      fs.closeSync(this.fd);
      fs.renameSync(`${this.file}.tmp`, this.file);
    } catch (e) {
      throw writeError(this.file, e);
    }
  }
  /** After a failure (a full disk, a bad row): no partial file is left. */
  abandon(): void {
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
    fs.rmSync(`${this.file}.tmp`, { force: true });
  }
}

const bump = (o: Record<string, number>, k: string): void => { o[k] = (o[k] ?? 0) + 1; };

function parseArgs(text: string | null): unknown {
  try { return JSON.parse(text ?? '{}') as unknown; } catch { return undefined; }
}

function withOut(file: string, body: (out: JsonlOut, skipped: Record<string, number>) => void): ExportStats {
  const out = new JsonlOut(file);
  const skipped: Record<string, number> = {};
  try {
    body(out, skipped);
    out.close();
  } catch (e) {
    out.abandon();
    throw e;
  }
  return { file, written: out.written, skipped };
}

type CallRow = Pick<StoredToolCall, 'tool_name' | 'tool_arguments_json' | 'parsed' | 'known_tool' | 'required_args_present' | 'schema_valid' | 'executed_ok'>;

export function exportSft(db: DB, file: string, opts: { includeIncorrect?: boolean; images?: ImageMode; experimentIds?: string[] } = {}): ExportStats {
  const callsOf = db.prepare(`SELECT tool_name, tool_arguments_json, parsed, known_tool, required_args_present, schema_valid, executed_ok
      FROM tool_calls_full WHERE experiment_id = ? AND sample_id = ? AND turn_index = ? ORDER BY tool_call_order`);
  const finalOf = db.prepare('SELECT final_scene_correct AS ok FROM predictions WHERE experiment_id = ? AND sample_id = ?');
  const condOf = db.prepare('SELECT condition_name, verifier_size FROM experiments WHERE experiment_id = ?');
  return withOut(file, (out, skipped) => {
    for (const t of rebuiltTurns(db, opts)) {
      const calls = callsOf.all(t.experiment_id, t.sample_id, t.turn_index) as CallRow[];
      if (calls.length === 0) continue; // not a tool-use step
      if (!opts.includeIncorrect && (finalOf.get(t.experiment_id, t.sample_id) as { ok: number | null } | undefined)?.ok !== 1) { bump(skipped, 'trajectory ended wrong'); continue; }
      if (calls.some((c) => !(c.parsed && c.known_tool && c.required_args_present && c.schema_valid && c.executed_ok))) { bump(skipped, 'invalid tool call in turn'); continue; }
      if (!t.body) { bump(skipped, t.problem!); continue; }
      const args = calls.map((c) => parseArgs(c.tool_arguments_json));
      if (args.some((a) => a === undefined)) { bump(skipped, 'arguments not JSON'); continue; }
      const target = calls.map((c, i) => `<tool_call>\n${JSON.stringify({ name: c.tool_name, arguments: args[i] })}\n</tool_call>`).join('\n');
      const cond = condOf.get(t.experiment_id) as { condition_name: string; verifier_size: string | null };
      out.push({
        messages: [...(t.body['messages'] as Msg[]), { role: 'assistant', content: target }],
        ...(t.body['tools'] !== undefined ? { tools: t.body['tools'] } : {}),
        metadata: { experiment_id: t.experiment_id, condition: cond.condition_name, verifier_size: cond.verifier_size, sample_id: t.sample_id, turn_index: t.turn_index },
      });
    }
  });
}

export function exportBatch(db: DB, file: string, opts: { experimentIds?: string[]; stage?: string; images?: ImageMode } = {}): ExportStats {
  return withOut(file, (out, skipped) => {
    for (const t of rebuiltTurns(db, opts)) {
      if (opts.stage && t.stage !== opts.stage) continue;
      if (!t.body) { bump(skipped, t.problem!); continue; }
      out.push({ custom_id: `${t.experiment_id}/${t.sample_id}/${t.turn_index}`, method: 'POST', url: '/v1/chat/completions', body: t.body });
    }
  });
}
