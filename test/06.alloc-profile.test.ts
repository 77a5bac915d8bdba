// scripts/alloc-profile.js: what each thread allocated, garbage included,
// read back with scripts/cpu-profile-top.js. Checked on a small program
// whose main thread and worker each churn tens of MB of short-lived arrays
// in a named function while keeping almost nothing: a profile of what
// survives (node --heap-prof's) would show next to nothing there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, tmpDir } from './helpers/cli';

const PRELOAD = path.join(ROOT, 'scripts', 'alloc-profile.js');
const TOP = path.join(ROOT, 'scripts', 'cpu-profile-top.js');

const CHURN = (name: string) => `
function ${name}() {
  let kept = 0;
  for (let i = 0; i < 300000; i++) kept += new Array(16).fill(i).length;
  return kept;
}
${name}();`;

function program(dir: string): string {
  fs.writeFileSync(path.join(dir, 'churner.js'), CHURN('churnInWorker'));
  const main = path.join(dir, 'main.js');
  fs.writeFileSync(main, `${CHURN('churnOnMain')}
const w = new (require('node:worker_threads').Worker)(require('node:path').join(__dirname, 'churner.js'));
w.on('exit', () => { process.exitCode = 3; });
`);
  return main;
}

function top(file: string): { mb: number; rows: Array<{ mb: number; share: number; name: string }> } {
  const r = spawnSync(process.execPath, [TOP, file, '5'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [head, ...lines] = r.stdout.trim().split('\n');
  const mb = Number(/^([\d.]+) MB allocated \(sampled\)$/.exec(head!)?.[1]);
  const rows = lines.map((l) => {
    const m = /^\s*([\d.]+) MB\s+([\d.]+)%\s+(\S+)/.exec(l);
    assert.ok(m, `row: ${l}`);
    return { mb: Number(m[1]), share: Number(m[2]), name: m[3]! };
  });
  return { mb, rows };
}

test('alloc-profile writes a profile per thread that counts the garbage, attributed to the function that made it', () => {
  const dir = tmpDir('tce-alloc-');
  const out = path.join(dir, 'profiles');
  const r = spawnSync(process.execPath, [program(dir)], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require ${PRELOAD}`, TCE_ALLOC_DIR: out, TCE_ALLOC_INTERVAL: '8192' } });
  assert.equal(r.status, 3, r.stderr);
  const files = fs.readdirSync(out).sort();
  assert.equal(files.length, 2, files.join(', '));
  assert.match(files[0]!, /^churner\.js\.\d+\.\d+\.heapprofile$/);
  assert.match(files[1]!, /^main\.\d+\.0\.heapprofile$/);
  // 300,000 arrays of 16 elements: ~50 MB a thread, all of it garbage at once.
  for (const [file, fn] of [[files[1]!, 'churnOnMain'], [files[0]!, 'churnInWorker']] as const) {
    const t = top(path.join(out, file));
    assert.ok(t.mb >= 20, `${file}: ${t.mb} MB sampled`);
    assert.equal(t.rows[0]!.name, fn, `${file}: ${JSON.stringify(t.rows)}`);
    assert.ok(t.rows[0]!.share >= 50, `${file}: ${JSON.stringify(t.rows[0])}`);
  }
});

test('alloc-profile without TCE_ALLOC_DIR says so and writes nothing', () => {
  const dir = tmpDir('tce-alloc-');
  const r = spawnSync(process.execPath, ['-e', 'process.exitCode = 0'], { encoding: 'utf8', cwd: dir, env: { ...process.env, NODE_OPTIONS: `--require ${PRELOAD}`, TCE_ALLOC_DIR: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /TCE_ALLOC_DIR is not set/);
  assert.deepEqual(fs.readdirSync(dir), []);
});
