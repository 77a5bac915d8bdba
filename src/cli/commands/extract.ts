import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from '../command';
import { str } from '../common-options';
import { TceError, UsageError } from '../../util/errors';
import { createStreamEngine } from '../../extract/engine';
import { extractTexts } from '../../extract/extract';
import type { AnswerKind, ExtractResult, StreamEngine, StreamEngineOptions, StreamResult } from '../../extract/types';
import { TOOL_NAMES } from '../../protocol/tools';
import { STAGE_NAMES } from '../../protocol/conditions';

const KINDS: readonly AnswerKind[] = ['verify', 'predict', ...STAGE_NAMES];
/** Whole texts are extracted in batches of this many (one native call each). */
const BATCH = 256;

type Line = { kind: 'text'; text: string } | { kind: 'stream'; mode: 'sse' | 'text'; chunks: string[] };

function parseLine(source: string, row: number, line: string): Line {
  const where = `${source} line ${row}`;
  // A line that does not start with '{' is the assistant text itself.
  if (!line.trimStart().startsWith('{')) return { kind: 'text', text: line };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new TceError('EXTRACT_INPUT', `${where}: not valid JSON (${(e as Error).message})`, 'a line starting with "{" must be {"text": ...}, {"chunks": [...]} or {"sse": ...}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TceError('EXTRACT_INPUT', `${where}: expected a JSON object`);
  const o = v as Record<string, unknown>;
  if ('text' in o) {
    if (typeof o['text'] !== 'string') throw new TceError('EXTRACT_INPUT', `${where}: field "text" must be a string`);
    return { kind: 'text', text: o['text'] };
  }
  if ('sse' in o) {
    if (typeof o['sse'] !== 'string') throw new TceError('EXTRACT_INPUT', `${where}: field "sse" must be a string (a raw SSE response body)`);
    return { kind: 'stream', mode: 'sse', chunks: [o['sse']] };
  }
  if ('chunks' in o) {
    const c = o['chunks'];
    if (!Array.isArray(c) || !c.every((x) => typeof x === 'string')) throw new TceError('EXTRACT_INPUT', `${where}: field "chunks" must be an array of strings`);
    return { kind: 'stream', mode: 'text', chunks: c as string[] };
  }
  throw new TceError('EXTRACT_INPUT', `${where}: none of the fields "text", "chunks", "sse" is present`);
}

function outLine(r: ExtractResult | StreamResult): string {
  const o: Record<string, unknown> = {
    tool_calls: r.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments, status: c.status, repairs: c.repairs })),
    content: r.content,
    reasoning: r.reasoning,
    final_answer: r.finalAnswer,
  };
  if ('finishReason' in r) {
    o['finish_reason'] = r.finishReason;
    o['error'] = r.error;
  }
  return JSON.stringify(o);
}

function runStream(engine: StreamEngine, opts: StreamEngineOptions, l: Extract<Line, { kind: 'stream' }>): StreamResult {
  const h = engine.open({ ...opts, mode: l.mode });
  engine.feed(l.chunks.map((c, i) => ({ handle: h, chunk: Buffer.from(c, 'utf8'), timeMs: i })));
  return engine.finish(h);
}

export const extractCommand: Command = {
  positionals: '[FILE]',
  allowPositionals: true,
  description: 'Reads JSONL lines {"text": ...}, {"chunks": [...]} (text in pieces) or {"sse": ...} (a raw SSE response body) from FILE or stdin (a line not starting with "{" is a text itself) and writes one line each, in input order: {"tool_calls": [{"name", "arguments", "status", "repairs"}], "content", "reasoning", "final_answer"} (SSE lines add "finish_reason" and "error"). See docs/extract.md.',
  options: {
    tools: { type: 'string', description: `the tools offered to the model: calls to others get status not_offered, and the untagged fallback recognises only these (default: ${TOOL_NAMES.join(',')} for the fallback, no offered-set check)`, valueName: 'a,b,c' },
    kind: { type: 'string', description: `answer format: ${KINDS.join(' | ')} (default: verify)`, valueName: 'KIND' },
    engine: { type: 'string', description: 'native | typescript (default: native, falling back to typescript)', valueName: 'NAME' },
  },
  async run(args) {
    const toolsArg = str(args, 'tools');
    const offered = toolsArg === undefined ? undefined : toolsArg.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const kind = (str(args, 'kind') ?? 'verify') as AnswerKind;
    if (!KINDS.includes(kind)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')} (found '${kind}')`);
    const prefer = str(args, 'engine') ?? 'native';
    if (prefer !== 'native' && prefer !== 'typescript') throw new UsageError(`--engine must be native or typescript (found '${prefer}')`);
    if (args.positionals.length > 1) throw new UsageError('at most one input FILE');
    const file = args.positionals[0];
    if (file !== undefined && !fs.existsSync(file)) throw new TceError('EXTRACT_INPUT', `${file}: no such file`);
    const source = file ?? '<stdin>';
    const opts: StreamEngineOptions = offered ? { knownTools: offered, offeredTools: offered, answerKind: kind } : { knownTools: TOOL_NAMES, answerKind: kind };
    const engine = createStreamEngine(prefer);
    const rl = readline.createInterface({ input: file ? fs.createReadStream(file) : process.stdin, crlfDelay: Infinity });
    // Consecutive whole texts are batched; a stream line flushes the batch so
    // output stays in input order.
    let texts: string[] = [];
    let out: string[] = [];
    const flushTexts = () => {
      if (texts.length) for (const r of extractTexts(texts, opts, prefer)) out.push(outLine(r));
      texts = [];
    };
    const write = () => {
      if (out.length) process.stdout.write(out.join('\n') + '\n');
      out = [];
    };
    let row = 0;
    for await (const line of rl) {
      row++;
      if (line.trim() === '') continue;
      let l: Line;
      try {
        l = parseLine(source, row, line);
      } catch (e) {
        // Lines before the bad one are still answered.
        flushTexts();
        write();
        throw e;
      }
      if (l.kind === 'text') {
        texts.push(l.text);
        if (texts.length >= BATCH) flushTexts();
      } else {
        flushTexts();
        out.push(outLine(runStream(engine, opts, l)));
      }
      if (out.length >= BATCH) write();
    }
    flushTexts();
    write();
    return 0;
  },
};
