import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { downscaleToBudget, imageCacheSize, imageDataUrl, setImageCacheBytes } from '../src/data/image-payload';
import type { Sample } from '../src/domain/sample';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { readRunDir } from '../src/store/run-reader';
import { loadConfig } from '../src/config/load';

function checker(w: number, h: number): Uint8Array {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = (x + y) % 2 === 0 ? 255 : 0;
    const d = (y * w + x) * 4;
    png.data[d] = v; png.data[d + 1] = v; png.data[d + 2] = v; png.data[d + 3] = 255;
  }
  return PNG.sync.write(png);
}

test('area resize averages each covered box; nearest keeps exact colours; a JPEG stays a JPEG', () => {
  const src = checker(64, 32);
  const area = downscaleToBudget(src, 'image/png', 32 * 16, 1, 'area');
  assert.deepEqual([area.width, area.height, area.mime], [32, 16, 'image/png']);
  const a = PNG.sync.read(Buffer.from(area.bytes));
  for (let i = 0; i < a.width * a.height; i++) assert.ok(Math.abs(a.data[i * 4]! - 128) <= 1, `pixel ${i} is ${a.data[i * 4]}, not the 2x2 mean`);
  const near = PNG.sync.read(Buffer.from(downscaleToBudget(src, 'image/png', 32 * 16, 1, 'nearest').bytes));
  for (let i = 0; i < near.width * near.height; i++) assert.ok(near.data[i * 4] === 0 || near.data[i * 4] === 255);
  const raw = PNG.sync.read(Buffer.from(src));
  const jpg = jpeg.encode({ width: 64, height: 32, data: raw.data }, 95).data;
  const j = downscaleToBudget(jpg, 'image/jpeg', 32 * 16, 1, 'area');
  assert.equal(j.mime, 'image/jpeg');
  assert.deepEqual([jpeg.decode(j.bytes).width, jpeg.decode(j.bytes).height], [32, 16]);
});

test('the data-URL cache is bounded by bytes, least recently used dropped first', () => {
  const sample = (id: number): Sample => ({ sampleId: id, chumUri: null, sceneGt: null, longActionGt: null, latActionGt: null, fineClass: null, oddLabel: null, location: null, waypointsGt: null, image: checker(40 + id, 20), imageMime: 'image/png' });
  const one = imageDataUrl(sample(0)).length;
  setImageCacheBytes(one * 5);
  try {
    const samples = Array.from({ length: 40 }, (_, i) => sample(i + 1));
    for (const s of samples) imageDataUrl(s);
    const size = imageCacheSize();
    assert.ok(size.bytes <= one * 5 + one, `cache holds ${size.bytes} bytes, cap ${one * 5}`);
    assert.ok(size.entries >= 2 && size.entries <= 6, `entries ${size.entries}`);
    // Same URL after eviction: recomputed from the sample, not lost.
    assert.equal(imageDataUrl(samples[0]!), imageDataUrl(samples[0]!));
  } finally {
    setImageCacheBytes(256 * 1024 * 1024);
  }
});

test('a prompt over the context: the error names the sample, the tokens and the setting; the run stops after a few', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-ctx-');
  // 1320 tokens pass the model preflight (its probe needs 807 + 512) but not
  // all_tools' later turns, which carry the tool responses: the in-run stop.
  // One sample at a time, and the limit fixed: the adaptive limit grows
  // with the server's idle queue, and under load that let 10 samples be in
  // flight by the third failure.
  const cfg = writeTestConfig(dir, fixture, { backend: { vllm: { maxModelLen: 1320 } }, concurrency: { initial: 1, min: 1, adaptive: false } });
  const r = await tce(['run', '--config', cfg, '--limit', '30', '--conditions', 'all_tools_2b', '--no-report', '--quiet'], { cwd: dir });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /CONTEXT_TOO_LONG|3 samples failed because their prompt does not fit/);
  assert.match(r.stderr, /sample \d+ needs \d+ prompt \+ 512 completion tokens but the server's context is 1320 tokens; raise backend\.vllm\.maxModelLen/);
  const runs = path.join(dir, 'tool_calling_experiment', 'runs');
  const exp = fs.readdirSync(runs).find((f) => f.startsWith('tc_all_tools_2b'))!;
  const done = readRunDir(path.join(runs, exp)).tables.predictions.length;
  assert.ok(done >= 3 && done < 10, `${done} samples ran before the stop`);
});

test('dataset.imageMode defaults to file for spawned vLLM servers, data-url otherwise; an explicit mode stays', () => {
  assert.equal(loadConfig({ overrides: { 'backend.kind': 'vllm' } }).config.dataset.imageMode, 'file');
  assert.equal(loadConfig({ overrides: { 'backend.kind': 'simulator' } }).config.dataset.imageMode, 'data-url');
  assert.equal(loadConfig({ overrides: { 'backend.kind': 'endpoints' } }).config.dataset.imageMode, 'data-url');
  assert.equal(loadConfig({ overrides: { 'backend.kind': 'vllm', 'dataset.imageMode': 'data-url' } }).config.dataset.imageMode, 'data-url');
});
