// Config files a hostile or careless user might pass: devices, FIFOs, a
// byte-order mark, numbers JSON cannot hold, bounds the wrong way round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tceProcess, tmpDir } from './helpers/cli';
import { loadConfig } from '../src/config/load';
import { TceError } from '../src/util/errors';

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
