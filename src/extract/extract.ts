// Whole-text extraction (logs, bulk re-analysis, non-streamed replies):
// the native path crosses the boundary once per batch.
import { loadNative } from '../native/loader';
import type { ExtractResult, StreamEngineOptions } from './types';
import { answerFromLines, parseAnswer } from './answer';
import { PackedReader } from './packed';
import { extractFromText } from './twin/tool-calls';
import { wellFormed } from './twin/well-formed';

export function extractTexts(texts: readonly string[], opts: StreamEngineOptions, prefer: 'native' | 'typescript' = 'native'): ExtractResult[] {
  const addon = prefer === 'native' ? loadNative().addon : null;
  if (addon) {
    const p = new PackedReader(addon.extractTexts(texts, opts.knownTools, opts.offeredTools));
    return texts.map((text) => {
      const content = p.str(() => wellFormed(text));
      const reasoning = p.str();
      const toolCalls = p.calls();
      const lines = p.answerLines();
      return { toolCalls, content, reasoning, finalAnswer: lines ? answerFromLines(lines, content, opts.answerKind) : parseAnswer(content, opts.answerKind) };
    });
  }
  return texts.map((t) => {
    const ex = extractFromText(wellFormed(t), opts.knownTools, opts.offeredTools);
    return { ...ex, finalAnswer: parseAnswer(ex.content, opts.answerKind) };
  });
}

/** Server-parsed calls get the same offered-set check as calls in the text. */
export { markNotOffered } from './twin/tool-calls';

export function extractText(text: string, opts: StreamEngineOptions, prefer: 'native' | 'typescript' = 'native'): ExtractResult {
  return extractTexts([text], opts, prefer)[0]!;
}
