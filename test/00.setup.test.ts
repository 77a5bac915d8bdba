import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tce } from './helpers/cli';
import { loadNative } from '../src/native/loader';

test('the native addon is built and loads', () => {
  const r = loadNative();
  assert.equal(r.diagnosis, null, r.diagnosis ?? '');
  assert.match(r.addon!.version(), /^\d+\.\d+\.\d+$/);
});

test('a failed load lists every path tried and how to rebuild', () => {
  const r = loadNative(['/nonexistent/a.node', '/nonexistent/b.node']);
  assert.equal(r.addon, null);
  assert.match(r.diagnosis!, /\/nonexistent\/a\.node: not found/);
  assert.match(r.diagnosis!, /\/nonexistent\/b\.node: not found/);
  assert.match(r.diagnosis!, /npm run build:native/);
});

test('tce --help lists the commands; unknown commands are usage errors', () => {
  const help = tce(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /create-db/);
  const bad = tce(['no-such-command']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'no-such-command'/);
  assert.match(bad.stderr, /hint:/);
});

test('every command has --help and rejects unknown flags with exit 2', async () => {
  const { COMMANDS } = require('../src/cli/commands/index') as typeof import('../src/cli/commands/index');
  for (const c of COMMANDS) {
    const h = tce([c.name, '--help']);
    assert.equal(h.status, 0, `${c.name} --help: ${h.stderr}`);
    assert.match(h.stdout, new RegExp(`usage: tce ${c.name}`));
    const u = tce([c.name, '--definitely-not-a-flag']);
    assert.equal(u.status, 2, `${c.name} with a bad flag should exit 2`);
  }
});
