// Differential fuzzing, seeded and time-bounded: native == twin on random
// texts and SSE streams, and a stream fed in random splits (inside escapes,
// UTF-8 characters, tags) equals the same stream fed whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractTexts } from '../src/extract/extract';
import { createStreamEngine } from '../src/extract/engine';
import type { StreamEngine, StreamResult } from '../src/extract/types';
import { requireNative } from '../src/native/loader';
import { randomBytes, randomSplit, randomSse, randomText, rng } from './helpers/extract-fuzz';

const SEED = Number(process.env['TCE_FUZZ_SEED'] ?? 20261121);
const BUDGET_MS = Number(process.env['TCE_FUZZ_MS'] ?? 4000);
const opts = { knownTools: ['check_scene_prior', 'check_confusion_risk'], answerKind: 'verify' as const };

function run(engine: StreamEngine, mode: 'sse' | 'text', pieces: Uint8Array[]): StreamResult {
  const h = engine.open({ ...opts, mode });
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
  const t0 = Date.now();
  let n = 0;
  while (Date.now() - t0 < BUDGET_MS / 4) {
    const texts = Array.from({ length: 50 }, () => randomText(r));
    const a = extractTexts(texts, opts, 'native');
    const b = extractTexts(texts, opts, 'typescript');
    for (let i = 0; i < texts.length; i++) assert.deepEqual(a[i], b[i], `seed ${SEED}: text ${JSON.stringify(texts[i])}`);
    n += texts.length;
  }
  assert.ok(n >= 50);
});

for (const mode of ['sse', 'text'] as const) {
  test(`${mode} streams: native == twin, and random splits == whole`, () => {
    requireNative();
    const native = createStreamEngine('native');
    const twin = createStreamEngine('typescript');
    assert.equal(native.implementation, 'native');
    const r = rng(SEED + (mode === 'sse' ? 1 : 2));
    const t0 = Date.now();
    let n = 0;
    while (Date.now() - t0 < (BUDGET_MS * 3) / 8) {
      const text = randomText(r);
      const bytes = randomBytes(r, mode === 'sse' ? randomSse(r, text) : text);
      const pieces = randomSplit(r, bytes);
      const where = `seed ${SEED} case ${n}: ${JSON.stringify(Buffer.from(bytes).toString('latin1'))} split ${pieces.map((p) => p.length)}`;
      const a = run(native, mode, pieces);
      assert.deepEqual(a, run(twin, mode, pieces), `native != twin, ${where}`);
      assert.deepEqual(untimed(a), untimed(run(native, mode, [bytes])), `split != whole, ${where}`);
      n++;
    }
    assert.ok(n >= 20);
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
