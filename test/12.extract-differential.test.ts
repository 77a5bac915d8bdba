// Differential fuzzing, seeded and count-bounded (the same cases on any
// machine, however busy): native == twin on random
// texts and SSE streams, and a stream fed in random splits (inside escapes,
// UTF-8 characters, tags) equals the same stream fed whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractTexts } from '../src/extract/extract';
import { createStreamEngine } from '../src/extract/engine';
import type { StreamEngine, StreamEngineOptions, StreamResult } from '../src/extract/types';
import { requireNative } from '../src/native/loader';
import { randomBytes, randomSplit, randomSse, randomText, rng } from './helpers/extract-fuzz';

const SEED = Number(process.env['TCE_FUZZ_SEED'] ?? 20261121);
/** Multiplies the case counts below, for a longer local fuzz run. */
const SCALE = Number(process.env['TCE_FUZZ_SCALE'] ?? 1);
const CASES = { texts: Math.ceil(3000 * SCALE), sse: Math.ceil(400 * SCALE), text: Math.ceil(1200 * SCALE) };
const KNOWN = ['check_scene_prior', 'check_confusion_risk'];
/** Offered set unknown, a subset of the known tools, or empty. */
const OFFERED: ReadonlyArray<readonly string[] | undefined> = [undefined, ['check_scene_prior', 'a'], []];
const optsFor = (k: number): StreamEngineOptions => {
  const offered = OFFERED[k % OFFERED.length];
  return offered ? { knownTools: KNOWN, offeredTools: offered, answerKind: 'verify' } : { knownTools: KNOWN, answerKind: 'verify' };
};
const opts = optsFor(0);

function run(engine: StreamEngine, mode: 'sse' | 'text', pieces: Uint8Array[], o: StreamEngineOptions = opts): StreamResult {
  const h = engine.open({ ...o, mode });
  pieces.forEach((p, i) => engine.feed([{ handle: h, chunk: p, timeMs: i }]));
  return engine.finish(h);
}

/** Timing fields depend on the chunking; everything else must not. */
function untimed(r: StreamResult): Omit<StreamResult, 'firstTokenMs' | 'lastTokenMs' | 'chunkTimesMs' | 'chunkTokens'> {
  const { firstTokenMs: _a, lastTokenMs: _b, chunkTimesMs: _c, chunkTokens: _d, ...rest } = r;
  return rest;
}

test('whole texts: native == twin on random texts', () => {
  requireNative();
  const r = rng(SEED);
  let n = 0;
  while (n < CASES.texts) {
    const texts = Array.from({ length: 50 }, () => randomText(r));
    const o = optsFor(n / 50);
    const a = extractTexts(texts, o, 'native');
    const b = extractTexts(texts, o, 'typescript');
    for (let i = 0; i < texts.length; i++) assert.deepEqual(a[i], b[i], `seed ${SEED}: text ${JSON.stringify(texts[i])} offered ${JSON.stringify(o.offeredTools)}`);
    n += texts.length;
  }
  assert.equal(n, CASES.texts);
});

for (const mode of ['sse', 'text'] as const) {
  test(`${mode} streams: native == twin, and random splits == whole`, () => {
    requireNative();
    const native = createStreamEngine('native');
    const twin = createStreamEngine('typescript');
    assert.equal(native.implementation, 'native');
    const r = rng(SEED + (mode === 'sse' ? 1 : 2));
    let n = 0;
    while (n < CASES[mode]) {
      const text = randomText(r);
      const bytes = randomBytes(r, mode === 'sse' ? randomSse(r, text) : text);
      const pieces = randomSplit(r, bytes);
      const o = optsFor(n);
      const where = `seed ${SEED} case ${n}: ${JSON.stringify(Buffer.from(bytes).toString('latin1'))} split ${pieces.map((p) => p.length)} offered ${JSON.stringify(o.offeredTools)}`;
      const a = run(native, mode, pieces, o);
      assert.deepEqual(a, run(twin, mode, pieces, o), `native != twin, ${where}`);
      assert.deepEqual(untimed(a), untimed(run(native, mode, [bytes], o)), `split != whole, ${where}`);
      assert.deepEqual(untimed(run(twin, mode, pieces, o)), untimed(run(twin, mode, [bytes], o)), `twin split != whole, ${where}`);
      n++;
    }
    assert.equal(n, CASES[mode]);
  });
}

test('several streams in one feed() call, interleaved, give the per-stream results', () => {
  const r = rng(SEED + 3);
  for (const impl of ['native', 'typescript'] as const) {
    const e = createStreamEngine(impl);
    const bodies = Array.from({ length: 8 }, () => Buffer.from(randomSse(r, randomText(r))));
    const handles = bodies.map(() => e.open(opts));
    const splits = bodies.map((b) => randomSplit(r, b, 6));
    const rounds = Math.max(...splits.map((s) => s.length));
    for (let k = 0; k < rounds; k++) {
      e.feed(splits.flatMap((s, i) => (k < s.length ? [{ handle: handles[i]!, chunk: s[k]!, timeMs: k }] : [])));
    }
    const got = handles.map((h) => untimed(e.finish(h)));
    const alone = bodies.map((b) => untimed(run(e, 'sse', [b])));
    assert.deepEqual(got, alone, impl);
  }
});

test('events that repeat the previous framing with a twist (the native fast path) match the twin', () => {
  // The native core reads an event that has the same bytes around its content
  // string as the last content-only event by reading that string alone; every
  // near miss below must fall back to the full parser and agree with JSON.parse.
  const head = '{"id":"c-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":';
  const tail = '},"logprobs":null,"finish_reason":null}]}';
  const plain = (s: string) => `${head}${JSON.stringify(s)}${tail}`;
  const payloads = [
    plain('<tool_'), plain('call>{"name": '), plain('é\u2028'),
    `${head}"raw \\u00e9 \\ud800 lone \\udc00\\ud83d\\ude00 \\"quote\\" \\\\ end \\/"${tail}`,
    `${head}"tab\\tand\\n"${tail}`,
    `${head}"bad\\x"${tail}`, // invalid escape: malformed
    `${head}"short \\u12"${tail}`, // short unicode escape: malformed
    `${head}"ctl\\u0001 ok"${tail}`,
    `${head}"raw\tcontrol"${tail}`, // raw control character: malformed
    `${head}"a"},"logprobs":null,"finish_reason":"stop"}]}`,
    `${head}"b","content":"c"${tail}`, // duplicate key: the last wins
    `${head}"d","content":null${tail}`,
    `${head}"e","reasoning":"r"${tail}`,
    `${head}"f"${tail}  `,
    `${head}"g"${tail.slice(0, -1)}`, // truncated: malformed
    `${head}"h"${tail}x`,
    `${head}"i"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
    `${head}"j"},"logprobs":null,"finish_reason":null}],"error":{"message":"boom"}}`,
    `${head}7${tail}`,
    `${head}"unterminated${tail.replace(/"/g, '')}`,
    `${head}"q\\"},\\"logprobs\\":null,\\"finish_reason\\":null}]}"${tail}`,
    plain('k'), plain(' </tool_call>'), plain(''),
  ];
  const r = rng(SEED + 4);
  const native = createStreamEngine('native');
  const twin = createStreamEngine('typescript');
  for (let round = 0; round < 200; round++) {
    // A random selection in random order, always with runs of plain events.
    const picked: string[] = [];
    for (let k = 0; k < 12; k++) {
      picked.push(plain(String.fromCharCode(97 + k)));
      if (r() < 0.6) picked.push(payloads[Math.floor(r() * payloads.length)]!);
    }
    // Bytes that are not UTF-8 inside an otherwise repeated event.
    const notUtf8 = Buffer.concat([Buffer.from(`data: ${head}"`), Buffer.from([0xff, 0xc3, 0x41, 0xe2, 0x82]), Buffer.from(`"${tail}\n\n`)]);
    const body = Buffer.concat([...picked.map((p) => Buffer.from(`data: ${p}\n\n`)), notUtf8, Buffer.from(`data: ${plain('z')}\n\n`)]);
    const pieces = randomSplit(r, body);
    const where = `round ${round}: ${JSON.stringify(body.toString('latin1'))}`;
    assert.deepEqual(run(native, 'sse', pieces), run(twin, 'sse', pieces), where);
  }
});
