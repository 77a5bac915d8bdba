// No server outlives the driver: Ctrl-C and a crash of the driver leave no
// process of the pool behind; `tce serve-check` starts, shows and stops the
// configured servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseConfig } from '../src/config/load';
import { isGroupAlive } from '../src/backends/vllm/reaper';
import { ROOT, processMark, processesWithMark, tce, tmpDir } from './helpers/cli';

const FAKE_DIR = path.join(ROOT, 'test', 'fake-vllm');
const env = { ...process.env, PATH: `${FAKE_DIR}${path.delimiter}${process.env.PATH}` };

// A minimal driver: opens the pool for three models, prints the process
// groups, then waits for Ctrl-C or crashes. The config is parsed here and
// passed as its JSON (it round-trips): the config loader and zod would cost
// each driver ~165 ms of CPU to load, and this process has them already.
const CONFIG = parseConfig({ backend: { kind: 'vllm', vllm: { startupTimeoutS: 30 } } }, 'test');
const DRIVER = `
const { VllmPool } = require(${JSON.stringify(path.join(ROOT, 'dist/src/backends/vllm/pool.js'))});
const cfg = ${JSON.stringify(CONFIG)};
const pool = new VllmPool(cfg, { runDir: process.argv[2], log: () => {} });
pool.ensure(['predictor', 'verifier_2b', 'verifier_8b']).then(() => {
  process.stdout.write(JSON.stringify(['predictor', 'verifier_2b', 'verifier_8b'].map((r) => pool.server(r).pid)) + '\\n');
  if (process.argv[3] === 'crash') setTimeout(() => { throw new Error('driver bug'); }, 50);
  else setInterval(() => {}, 1000);
});
`;

async function runDriver(mode: 'sigint' | 'crash'): Promise<{ pids: number[]; code: number | null; stderr: string }> {
  const dir = tmpDir();
  const file = path.join(dir, 'driver.js');
  fs.writeFileSync(file, DRIVER);
  const child = spawn(process.execPath, [file, dir, mode], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const pids = await new Promise<number[]>((resolve, reject) => {
    child.stdout.on('data', () => { if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!)); });
    child.on('exit', () => reject(new Error(`driver exited early: ${err}`)));
  });
  for (const p of pids) assert.ok(isGroupAlive(p));
  if (mode === 'sigint') child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { pids, code, stderr: err };
}

/** Whether a process of group `pgid` still runs. A zombie does not (the
 * same rule as processesWithMark): it has exited and holds nothing, it only
 * waits for its reaper. The servers are orphaned when the driver exits, and
 * this sandbox's init reaps orphans 1-2 s late; waiting for that measured
 * the init, not tce. */
function groupRunning(pgid: number): boolean {
  if (!isGroupAlive(pgid)) return false;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const m = /^\d+ \(.*\) (\S) \d+ (\d+) /.exec(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
      if (m && m[1] !== 'Z' && Number(m[2]) === pgid) return true;
    } catch { /* gone meanwhile */ }
  }
  return false;
}

async function goneSoon(pids: number[]): Promise<void> {
  for (let i = 0; i < 40 && pids.some(groupRunning); i++) await new Promise((r) => setTimeout(r, 50));
  for (const p of pids) assert.equal(groupRunning(p), false, `no process of group ${p} runs`);
}

test('Ctrl-C of the driver stops every server and its engine process', async () => {
  const r = await runDriver('sigint');
  assert.equal(r.code, 130);
  await goneSoon(r.pids);
});

test('a crash of the driver stops every server too', async () => {
  const r = await runDriver('crash');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /driver bug/);
  await goneSoon(r.pids);
});

test('tce serve-check: three fake servers healthy, then stopped with no process left', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'config.json'), '{}');
  const mark = processMark();
  const r = await tce(['serve-check', '--config', path.join(dir, 'config.json'), '--run-dir', dir, '--timeout', '30'], { env: { ...env, [mark.name]: mark.value } });
  assert.equal(r.status, 0, r.stderr);
  const healthy = r.stdout.split('\n').filter((l) => / healthy /.test(l));
  assert.deepEqual(healthy.map((l) => l.split(/\s+/)[0]), ['predictor', 'verifier_2b', 'verifier_8b']);
  assert.match(r.stdout, /stopped; logs in/);
  // Servers and their engine processes inherit the mark; none may be left.
  assert.deepEqual(processesWithMark(mark), [], 'no process started by serve-check is left');
});
