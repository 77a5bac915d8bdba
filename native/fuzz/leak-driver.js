'use strict';
// Exercises every addon entry point for native/fuzz/leak-check.sh: streams
// fed in random splits, finished or closed, batch extraction, handle errors,
// and engines dropped so their finalizers run.
const { requireNative } = require('../../dist/src/native/loader');
const { createStreamEngine } = require('../../dist/src/extract/engine');
const { extractTexts } = require('../../dist/src/extract/extract');
const f = require('../../dist/test/helpers/extract-fuzz');

const rounds = Number(process.argv[2] || 300);
const addon = requireNative();
const r = f.rng(7);
const opts = { knownTools: ['check_scene_prior'], answerKind: 'verify' };
for (let i = 0; i < rounds; i++) {
  const e = createStreamEngine('native');
  const sse = e.open(opts);
  const txt = e.open({ ...opts, mode: 'text' });
  const dropped = e.open(opts);
  const body = f.randomBytes(r, f.randomSse(r, f.randomText(r)));
  for (const p of f.randomSplit(r, body)) e.feed([{ handle: sse, chunk: p, timeMs: i }, { handle: txt, chunk: p, timeMs: i }, { handle: dropped, chunk: p, timeMs: i }]);
  e.finish(sse);
  e.finish(txt);
  e.close(dropped);
  if (i % 3 === 0) e.open(opts); // left open: freed with the engine
  extractTexts([f.randomText(r), f.randomText(r)], opts);
  try { addon.finish(addon.createEngine(), 1); } catch { /* expected TypeError */ }
}
global.gc();
global.gc();
console.log(`leak-driver: ${rounds} rounds done`);
