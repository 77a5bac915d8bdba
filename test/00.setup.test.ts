import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, tce, tceProcess } from './helpers/cli';
import { COMMANDS } from '../src/cli/commands/index';
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

test('the tce binary: --help lists the commands; unknown commands are usage errors', () => {
  // The real executable once (bin/tce.js -> main -> exit code); every other
  // CLI test calls main() in-process.
  const help = tceProcess(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /create-db/);
  const bad = tceProcess(['no-such-command']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'no-such-command'/);
  assert.match(bad.stderr, /hint:/);
});

test('tce --help loads no command module; running a command loads only its own', () => {
  const mainJs = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const script = `const { main } = require(${JSON.stringify(mainJs)});
const loaded = () => Object.keys(require.cache).filter((f) => f.includes(${JSON.stringify(`${path.sep}commands${path.sep}`)}) && !f.endsWith('index.js')).map((f) => require('path').basename(f));
main(['--help']).then(() => { const a = loaded(); return main(['create-db', '--help']).then(() => console.error(JSON.stringify([a, loaded()]))); });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [afterHelp, afterCreateDb] = JSON.parse(r.stderr.trim().split('\n').pop()!) as [string[], string[]];
  assert.deepEqual(afterHelp, []);
  assert.deepEqual(afterCreateDb, ['create-db.js']);
});

test('every command has --help and rejects unknown flags with exit 2', async () => {
  for (const c of COMMANDS) {
    const h = await tce([c.name, '--help']);
    assert.equal(h.status, 0, `${c.name} --help: ${h.stderr}`);
    assert.match(h.stdout, new RegExp(`usage: tce ${c.name}`));
    assert.ok(h.stdout.includes(c.summary), `${c.name} --help shows its summary`);
    const u = await tce([c.name, '--definitely-not-a-flag']);
    assert.equal(u.status, 2, `${c.name} with a bad flag should exit 2`);
    assert.match(u.stderr, new RegExp(`run \`tce ${c.name} --help\``));
  }
});
