// scripts/thread-cpu.js: a command's CPU by thread over time. Checked on a
// small Node program whose worker burns CPU while the main thread waits:
// the worker's CPU must land on its script's name, not on "main", the
// command's exit code must come back, and a bad call must be refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, tmpDir } from './helpers/cli';

const SCRIPT = path.join(ROOT, 'scripts', 'thread-cpu.js');
const linux = process.platform === 'linux';

function program(dir: string): string {
  fs.writeFileSync(path.join(dir, 'burner.js'), `
const t = Date.now();
let x = 0;
while (Date.now() - t < 1500) x += Math.sqrt(x + 1);
require('node:worker_threads').parentPort.postMessage(x);
`);
  const main = path.join(dir, 'main.js');
  fs.writeFileSync(main, `
const { Worker } = require('node:worker_threads');
const w = new Worker(require('node:path').join(__dirname, 'burner.js'));
w.on('message', () => { process.exitCode = 3; });
`);
  return main;
}

test('thread-cpu names the worker that used the CPU and passes the exit code on', { skip: !linux && 'reads /proc (Linux only)' }, () => {
  const dir = tmpDir('tce-threads-');
  const json = path.join(dir, 'out.json');
  const r = spawnSync(process.execPath, [SCRIPT, '--interval', '0.2', '--json', json, '--', process.execPath, program(dir)], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stdout, /CPU % of one core per interval/);
  const out = JSON.parse(fs.readFileSync(json, 'utf8')) as { totals: Record<string, { cpuS: number; faults: number }>; intervals: Array<{ t: number; cpuS: Record<string, number> }> };
  const burner = out.totals['burner.js'];
  assert.ok(burner, `no burner.js among ${Object.keys(out.totals).join(', ')}`);
  // 1.5 s of busy loop, read at most one 0.2 s interval late, on a shared machine.
  assert.ok(burner.cpuS >= 0.6, `burner.js ${burner.cpuS} s`);
  assert.ok((out.totals['main']?.cpuS ?? 0) < burner.cpuS, 'the main thread only waited');
  assert.ok(out.intervals.length >= 5, `${out.intervals.length} intervals`);
  assert.match(r.stdout, /burner\.js/);
});

test('thread-cpu keeps a child process\'s threads apart and counts system time', { skip: !linux && 'reads /proc (Linux only)' }, () => {
  const dir = tmpDir('tce-threads-');
  // The child spends its second in the kernel: each read of /dev/zero
  // clears 1 MiB there, against a microsecond of JavaScript around it.
  fs.writeFileSync(path.join(dir, 'zeros.js'), `
const fs = require('node:fs');
const fd = fs.openSync('/dev/zero', 'r');
const buf = Buffer.alloc(1 << 20);
const t = Date.now();
while (Date.now() - t < 1500) fs.readSync(fd, buf, 0, buf.length, null);
`);
  const main = path.join(dir, 'parent.js');
  fs.writeFileSync(main, `require('node:child_process').spawnSync(process.execPath, [require('node:path').join(__dirname, 'zeros.js')], { stdio: 'inherit' });`);
  const json = path.join(dir, 'out.json');
  const r = spawnSync(process.execPath, [SCRIPT, '--interval', '0.2', '--json', json, '--', process.execPath, main], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(fs.readFileSync(json, 'utf8')) as { totals: Record<string, { cpuS: number; sysS: number }> };
  const child = out.totals['c1/main'];
  assert.ok(child, `no c1/main among ${Object.keys(out.totals).join(', ')}`);
  assert.ok(child.cpuS >= 0.6, `c1/main ${child.cpuS} s`);
  assert.ok(child.sysS >= 0.5 * child.cpuS, `c1/main: ${child.sysS} of ${child.cpuS} s in the kernel`);
  assert.ok((out.totals['main']?.cpuS ?? 0) < child.cpuS, 'the parent only waited; its main thread is not merged with the child\'s');
  assert.match(r.stdout, /of it system s/);
});

test('thread-cpu refuses a call without a command', { skip: !linux && 'reads /proc (Linux only)' }, () => {
  const r = spawnSync(process.execPath, [SCRIPT, '--interval', '0.2'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no command after --/);
  const bad = spawnSync(process.execPath, [SCRIPT, '--interval', 'x', '--', 'true'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--interval/);
});
