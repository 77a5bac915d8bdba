import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tce, tceProcess, tmpDir } from './helpers/cli';
import { loadConfig, parseConfig } from '../src/config/load';
import { TceError } from '../src/util/errors';

test('the default config is complete and points at the simulator and fixture', () => {
  const { config, source } = loadConfig({ file: undefined });
  assert.ok(source === '(defaults)' || source.endsWith('config.json'));
  assert.equal(config.backend.kind, 'simulator');
  assert.equal(config.models.verifier_8b.gpuId, 2);
  assert.equal(config.models.predictor.env['VLLM_BATCH_INVARIANT'], '1');
  assert.equal(config.gate.threshold, 0.7);
});

test('a wrong type in a nested field names the file, the path, expected and found', () => {
  assert.throws(() => parseConfig({ backend: { vllm: { maxNumSeqs: 'many' } } }, 'x.json'), (e: unknown) => {
    assert.ok(e instanceof TceError);
    assert.match(e.message, /x\.json: backend\.vllm\.maxNumSeqs: .*number.*found string "many"/);
    return true;
  });
  assert.throws(() => parseConfig({ models: { verifier_2b: { gpuId: -1 } } }, 'y.json'), /y\.json: models\.verifier_2b\.gpuId/);
  assert.throws(() => parseConfig({ typo: 1 }, 'z.json'), /z\.json: .*typo/);
  // A renamed key names its replacement, alone or beside an unknown one.
  assert.throws(() => parseConfig({ backend: { simulator: { tokensPerDelta: 4 } } }, 'old.json'), (e: unknown) => e instanceof TceError
    && /^old\.json: backend\.simulator\.tokensPerDelta: this key was replaced by backend\.streamInterval \(vLLM's --stream-interval/m.test(e.message) && !/Unrecognized/.test(e.message));
  assert.throws(() => parseConfig({ backend: { simulator: { tokensPerDelta: 4, typo: 1 } } }, 'old.json'), (e: unknown) => e instanceof TceError
    && /tokensPerDelta: this key was replaced by backend\.streamInterval/.test(e.message) && /backend\.simulator: Unrecognized keys: "tokensPerDelta", "typo"/.test(e.message));
  assert.equal(parseConfig({}, 'd.json').backend.streamInterval, 4);
  assert.throws(() => parseConfig({ backend: { streamInterval: 0 } }, 'z.json'), /z\.json: backend\.streamInterval: /);
});

test('tce config prints the default; a bad file fails with exit 1 naming the field', async () => {
  const ok = await tce(['config']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).seed, 42);
  const dir = tmpDir();
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ run: { maxTurns: '4' } }));
  const bad = await tce(['config', '--config', file]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /run\.maxTurns/);
  assert.match(bad.stderr, /config\.json/);
  const schema = await tce(['config', '--schema']);
  assert.equal(schema.status, 0);
  assert.equal(JSON.parse(schema.stdout).type, 'object');
});

test('docs/config.md documents every field, exactly as the schema says', () => {
  const { configReference } = require('../src/config/doc') as typeof import('../src/config/doc');
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'config.md'), 'utf8');
  assert.ok(doc.includes(configReference()), 'docs/config.md is out of date: regenerate its table with `npx tce config --reference`');
  for (const line of configReference().split('\n').slice(2)) assert.ok(/\| [^|]*\S[^|]* \|$/.test(line), `undocumented field: ${line}`);
});

test('a flag overriding one nested field keeps the defaults of its siblings', () => {
  const { config, source } = loadConfig({ file: undefined, overrides: { 'models.verifier_8b.gpuId': 5, 'run.maxTurns': 2 } });
  assert.equal(config.models.verifier_8b.gpuId, 5);
  assert.equal(config.models.verifier_8b.path, '/fsx/models/Qwen3-VL-8B-Instruct');
  assert.equal(config.run.maxTurns, 2);
  assert.equal(config.run.maxTokens, 512);
  assert.ok(source === '(defaults)' || source.endsWith('config.json'));
  assert.throws(() => loadConfig({ file: undefined, overrides: { 'run.maxTurns': 0 } }), /command-line flags: run\.maxTurns/);
});

// Config files a hostile or careless user might pass: devices, FIFOs, a
// byte-order mark, numbers JSON cannot hold, bounds the wrong way round.
function configError(file: string): TceError {
  try {
    loadConfig({ file });
  } catch (e) {
    assert.ok(e instanceof TceError, String(e));
    return e;
  }
  assert.fail(`${file} was accepted`);
}

test('C4: --config /dev/zero and a FIFO fail at once instead of hanging', (t) => {
  const r = tceProcess(['config', '--config', '/dev/zero'], { timeout: 20_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /tce: error: \/dev\/zero: not a regular file \(a device or socket\)/);
  const dir = tmpDir('tce-fifo-');
  const fifo = path.join(dir, 'cfg.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('mkfifo is not available');
  const f = tceProcess(['config', '--config', fifo], { timeout: 20_000 });
  assert.equal(f.status, 1, f.stderr);
  assert.match(f.stderr, /cfg\.fifo: not a regular file \(a FIFO\)/);
  assert.match(configError(dir).message, /not a regular file \(a folder\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('L4: a byte-order mark is accepted (it is not part of the JSON)', () => {
  const dir = tmpDir('tce-bom-');
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, '\ufeff' + JSON.stringify({ seed: 7 }));
  assert.equal(loadConfig({ file }).config.seed, 7);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('L4: 1e400 is reported as out of range at its field, not as "found number null"', () => {
  const dir = tmpDir('tce-inf-');
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, '{"gate": {"threshold": 1e400}}');
  const e = configError(file);
  assert.match(e.message, /config\.json: gate\.threshold: number out of range .*Infinity/);
  assert.doesNotMatch(e.message, /null/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('L4: concurrency.min above concurrency.max is refused, naming the field', () => {
  const dir = tmpDir('tce-minmax-');
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ concurrency: { min: 64, max: 8 } }));
  assert.match(configError(file).message, /config\.json: concurrency\.min: concurrency\.min must not exceed concurrency\.max/);
  fs.writeFileSync(file, JSON.stringify({ concurrency: { min: 8, max: 8 } }));
  assert.equal(loadConfig({ file }).config.concurrency.max, 8);
  fs.rmSync(dir, { recursive: true, force: true });
});
