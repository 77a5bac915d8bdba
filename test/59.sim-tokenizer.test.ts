// The simulator's tokenizer built from the build's prepared tables
// (tokenizer-data.ts) tokenizes exactly as the package's own load: same ids
// for prompts, tool schemas, model-like answers and seeded random text, and
// the same text back from any slice of ids (the simulator's SSE deltas).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  loadPackageTokenizer, loadPreparedTokenizer, loadTokenizer, tokenizerDataCurrent, TOKENIZER_DATA_DIR,
} from '../src/backends/sim/tokenizer-data';
import { pieceEncoder } from '../src/backends/sim/piece-encoder';
import { encode, streamGroups } from '../src/backends/sim/tokenizer';
import { buildLineIndex, LineIndexMap } from '../src/backends/sim/line-index';
import { PREDICT_PROMPT, STAGED_SCENE_PROMPT, stagedActionPrompt, verificationPrompt } from '../src/protocol/prompts';
import { TOOL_NAMES } from '../src/protocol/tools';
import { openAiTools } from '../src/tools/registry';
import { Rng } from '../src/util/rng';
import { tmpDir } from './helpers/cli';

// Letters, digits, punctuation, whitespace runs, accents, CJK, emoji, the
// byte-level BPE's own printable stand-ins, and the added tokens.
const ALPHABET = [...'abcXYZ019 .,;:!?\'"-_(){}[]<>/\\\n\r\t  éüßøñ世界東京🚗🤖👍🏽\u0301\u00a0ĠĊ'];
const ADDED = ['<|im_start|>', '<|im_end|>', '<tool_call>', '</tool_call>', '<think>', '</think>', '<|endoftext|>'];

function corpus(): string[] {
  const rng = new Rng(59, 'tokenizer-corpus');
  const random = Array.from({ length: 300 }, () => {
    let s = '';
    const n = rng.int(1, 120);
    for (let i = 0; i < n; i++) s += rng.chance(0.03) ? ADDED[rng.int(0, ADDED.length - 1)] : ALPHABET[rng.int(0, ALPHABET.length - 1)];
    return s;
  });
  return [
    PREDICT_PROMPT, STAGED_SCENE_PROMPT, stagedActionPrompt('incident_zone'),
    verificationPrompt({ scene: 'incident_zone', longAction: 'slowdown', latAction: 'null' }),
    JSON.stringify(openAiTools(TOOL_NAMES)),
    '<think>\nThe cones suggest an incident zone.\n</think>\n\n<tool_call>\n{"name": "check_scene_prior", "arguments": {"scene": "incident_zone"}}\n</tool_call>',
    'FINAL_SCENE: nominal\nFINAL_LONG_ACTION: null\nWAYPOINTS: [[1.25, -0.5], [2.5, 0.0]]   \n\n\n  end',
    fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8'),
    ...random,
  ];
}

// The tables scripts/build-ts.js wrote with writeTokenizerData (writing
// reads the package's 11 MB JSON, ~1.4 s): their stamp holds a hash of the
// writer's code, so tables a changed writer did not write are not current
// and the first test fails on them.
const preparedDir = (): string => TOKENIZER_DATA_DIR;

test('the prepared tables tokenize and detokenize exactly as the package load', () => {
  const dir = preparedDir();
  assert.ok(tokenizerDataCurrent(dir));
  const prepared = loadPreparedTokenizer(dir);
  assert.ok(prepared, 'prepared tables load');
  const reference = loadPackageTokenizer();
  const opts = { add_special_tokens: false };
  const rng = new Rng(59, 'slices');
  for (const text of corpus()) {
    const ids = reference.encode(text, opts);
    assert.deepEqual(prepared.encode(text, opts), ids, `same ids for ${JSON.stringify(text.slice(0, 60))}`);
    for (let k = 0; k < 5 && ids.length > 0; k++) {
      const a = rng.int(0, ids.length - 1);
      const slice = ids.slice(a, rng.int(a + 1, ids.length));
      assert.equal(prepared.decode(slice, { skip_special_tokens: false }), reference.decode(slice, { skip_special_tokens: false }));
    }
  }
  assert.equal(prepared.model.vocab.length, reference.model.vocab.length);
});

// The simulator's load (the build's tables), once for the tests that use it:
// each load costs as much as the rest of a test.
let simulators: ReturnType<typeof loadTokenizer> | null = null;
const simulatorTokenizer = (): ReturnType<typeof loadTokenizer> => (simulators ??= loadTokenizer());

test('the per-piece memo encodes and counts exactly as the package, first sight and repeat', () => {
  const reference = simulatorTokenizer();
  const fast = pieceEncoder(reference);
  const texts = corpus();
  const want = texts.map((text) => reference.encode(text, { add_special_tokens: false }));
  // Twice: the second pass reads every piece from the memo.
  for (const pass of [1, 2]) {
    for (const [i, text] of texts.entries()) {
      const ids = want[i]!;
      assert.deepEqual(fast.encode(text), ids, `pass ${pass}: same ids for ${JSON.stringify(text.slice(0, 60))}`);
      assert.equal(fast.count(text), ids.length);
    }
  }
  // A tokenizer of another shape falls back to the package's encode.
  const other = Object.assign(Object.create(Object.getPrototypeOf(reference) as object) as typeof reference, reference, { post_processor: null });
  assert.deepEqual(pieceEncoder(other).encode('<tool_call>hi there'), reference.encode('<tool_call>hi there', { add_special_tokens: false }));
});

test('the per-id byte decoder decodes any slice of ids exactly as the package', () => {
  const reference = simulatorTokenizer();
  const fast = pieceEncoder(reference);
  const rng = new Rng(59, 'decode-slices');
  const slow = (ids: number[]) => reference.decode(ids, { skip_special_tokens: false });
  for (const text of corpus()) {
    const ids = reference.encode(text, { add_special_tokens: false });
    // Every 1-6 token window (the simulator's deltas; windows cut
    // multi-byte characters) and random longer slices, twice (cached ids).
    for (const pass of [1, 2]) {
      for (let a = 0; a < ids.length; a += pass) {
        const w = ids.slice(a, a + 1 + (a % 6));
        assert.equal(fast.decode(w), slow(w), `pass ${pass}: window at ${a} of ${JSON.stringify(text.slice(0, 40))}`);
      }
      for (let k = 0; k < 5 && ids.length > 0; k++) {
        const a = rng.int(0, ids.length - 1);
        const slice = ids.slice(a, rng.int(a + 1, ids.length));
        assert.equal(fast.decode(slice), slow(slice));
      }
    }
  }
  // Ids the vocabulary does not have join as nothing; a decode longer than
  // the reused buffer; random ids over the whole vocabulary.
  const n = reference.model.vocab.length;
  for (const ids of [[n + 5, 9707, n + 9], Array.from({ length: 3000 }, (_, i) => 1000 + (i % 5000)), Array.from({ length: 400 }, () => rng.int(0, n - 1))]) {
    assert.equal(fast.decode(ids), slow(ids));
  }
});

test('tables made for another tokenizer version are not used', () => {
  const dir = tmpDir();
  fs.cpSync(preparedDir(), dir, { recursive: true });
  const base = path.join(dir, 'base.json');
  const json = JSON.parse(fs.readFileSync(base, 'utf8')) as { source: string };
  fs.writeFileSync(base, JSON.stringify({ ...json, source: `0.0.0:${json.source}` }));
  assert.equal(tokenizerDataCurrent(dir), false);
  assert.equal(loadPreparedTokenizer(dir), null);
  assert.equal(loadPreparedTokenizer(path.join(dir, 'missing')), null);
});

test('the line index finds every key at its line, nothing else, and added entries first', () => {
  const keys = ['', 'a', 'ab', 'Ġthe', '["Ġ", "t"]', '世界', '🚗', ...Array.from({ length: 500 }, (_, i) => `k${i}`)];
  const { text, index } = buildLineIndex(keys);
  const m = new LineIndexMap(text, index);
  keys.forEach((k, i) => assert.equal(m.get(k), i, JSON.stringify(k)));
  for (const k of ['b', 'a\n', 'k500', 'Ġth', 'constructor', '__proto__']) {
    assert.equal(m.get(k), undefined, JSON.stringify(k));
    assert.equal(m.has(k), false);
  }
  m.set('<tool_call>', 9999).set('a', 7);
  assert.equal(m.get('<tool_call>'), 9999);
  assert.equal(m.get('a'), 7);
  assert.equal(m.size, keys.length + 2);
  assert.throws(() => new LineIndexMap(`${text}x`, index), /does not match/);
});

test('tables without their index, or with an index of another text, are not used', () => {
  const noIndex = tmpDir();
  fs.cpSync(preparedDir(), noIndex, { recursive: true });
  fs.rmSync(path.join(noIndex, 'vocab.index'));
  assert.equal(loadPreparedTokenizer(noIndex), null);
  const otherText = tmpDir();
  fs.cpSync(preparedDir(), otherText, { recursive: true });
  fs.appendFileSync(path.join(otherText, 'merge-keys.txt'), 'x y\n');
  assert.equal(loadPreparedTokenizer(otherText), null);
});

test('the build prepared current tables for the simulator', () => {
  // scripts/build-ts.js writes them; without them every simulator process
  // would fall back to the package's slow load.
  assert.ok(tokenizerDataCurrent(TOKENIZER_DATA_DIR), `current tables in ${TOKENIZER_DATA_DIR}`);
  assert.equal(simulatorTokenizer().encode('<tool_call>hi', { add_special_tokens: false }).length, 2);
});

// The SSE events of a generated text as vLLM sends them under
// --stream-interval N: vllm/v1/engine/output_processor.py
// RequestState.make_request_output (read at vllm-project/vllm@d0782260:
// "Send output request only when 1. It has finished, or 2. It is the first
// token, or 3. It has reached the stream interval number of tokens"), the stop
// token counted but not detokenized (vllm/v1/engine/detokenizer.py
// BaseIncrementalDetokenizer.update, e372329d), EOS checked before the length
// cap (vllm/v1/core/sched/utils.py check_stop, current main).
const ANSWER = 'FINAL_SCENE: incident_zone\nFINAL_LONG_ACTION: slowdown\nFINAL_LAT_ACTION: null\nWAYPOINTS: [[1.25, -0.5], [2.5, 0.0], [3.75, 0.5]]';

test('stream interval N: events carry [1, N, N, ..., rest] tokens, the last with the stop token; the text is whole; completion tokens count the stop token', () => {
  const textTokens = encode(ANSWER).length;
  assert.ok(textTokens > 30);
  for (const n of [1, 4, 7]) {
    const g = streamGroups(ANSWER, n, 1000);
    assert.equal(g.truncated, false);
    assert.equal(g.tokens, textTokens + 1, 'usage.completion_tokens counts the EOS');
    assert.equal(g.eventTokens[0], 1, 'the first token is sent alone');
    assert.ok(g.eventTokens.slice(1, -1).every((k) => k === n), `N=${n}: ${g.eventTokens.join(',')}`);
    assert.ok(g.eventTokens.at(-1)! >= 1 && g.eventTokens.at(-1)! <= n);
    assert.equal(g.eventTokens.reduce((a, b) => a + b, 0), textTokens + 1);
    assert.equal(g.deltas.length, g.eventTokens.length);
    assert.equal(g.deltas.join(''), ANSWER);
  }
  assert.equal(streamGroups(ANSWER, 1, 1000).deltas.at(-1), '', 'N=1: the EOS step is an event of its own with no text');
  // A text whose tokens close a group exactly: the stop token is sent alone, as "".
  let cut = '';
  for (let i = 1; i <= ANSWER.length && !cut; i++) if ((encode(ANSWER.slice(0, i)).length - 1) % 4 === 0 && encode(ANSWER.slice(0, i)).length > 1) cut = ANSWER.slice(0, i);
  const aligned = streamGroups(cut, 4, 1000);
  assert.deepEqual([aligned.eventTokens.at(-1), aligned.deltas.at(-1)], [1, '']);
  assert.equal(aligned.deltas.join(''), cut);
});

test('max_tokens: a text of exactly max_tokens tokens finishes "length" with no stop token; one token shorter stops', () => {
  const t = encode(ANSWER).length;
  const exact = streamGroups(ANSWER, 4, t);
  assert.deepEqual([exact.truncated, exact.tokens, exact.deltas.join('')], [true, t, ANSWER]);
  assert.equal(exact.eventTokens.reduce((a, b) => a + b, 0), t);
  const room = streamGroups(ANSWER, 4, t + 1);
  assert.deepEqual([room.truncated, room.tokens], [false, t + 1], 'EOS as the max_tokens-th token still stops');
  const short = streamGroups(ANSWER, 4, t - 3);
  assert.deepEqual([short.truncated, short.tokens], [true, t - 3]);
  assert.ok(ANSWER.startsWith(short.deltas.join('')) && short.deltas.join('').length < ANSWER.length);
});

test('a multi-byte character split across a send boundary is held back until complete, and nothing is lost', () => {
  // Byte-level BPE cuts these emoji into several tokens each.
  const text = 'ok 🚗🤖👍🏽 東京 é done';
  let held = 0;
  for (const n of [1, 2, 3, 4, 7]) {
    const g = streamGroups(text, n, 1000);
    assert.equal(g.deltas.join(''), text, `N=${n}`);
    assert.ok(g.deltas.every((d) => !d.includes('\uFFFD')), `N=${n}: no replacement character`);
    held += g.deltas.slice(0, -1).filter((d) => d === '').length;
  }
  assert.ok(held > 0, 'some event carried only part of a character and sent no text');
});
