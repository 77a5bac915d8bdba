// The spawned servers' API key is not on their command line (ps shows
// argv to every user); servers left by a killed driver are reported.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config/load';
import { VllmPool } from '../src/backends/vllm/pool';
import { SERVER_RECORD, readServerRecord } from '../src/backends/vllm/server-record';
import { ROOT, tmpDir } from './helpers/cli';

const FAKE_DIR = path.join(ROOT, 'test', 'fake-vllm');
const PATH = process.env.PATH;
before(() => {
  process.env.PATH = `${FAKE_DIR}${path.delimiter}${PATH}`;
});
// Test files share a process (scripts/run-tests.js): the next one gets PATH back.
after(() => {
  if (PATH === undefined) delete process.env.PATH;
  else process.env.PATH = PATH;
});
const config = () => parseConfig({ backend: { kind: 'vllm', vllm: { startupTimeoutS: 30 } } }, 'test config');

test('L3: the API key reaches vllm serve through VLLM_API_KEY, never argv; requests need it', async (t) => {
  if (!fs.existsSync('/proc/self/cmdline')) return t.skip('needs /proc');
  const runDir = tmpDir();
  const pool = new VllmPool(config(), { runDir, log: () => {}, pollMs: 50 });
  try {
    await pool.ensure(['verifier_8b']);
    const s = pool.server('verifier_8b')!;
    const key = s.endpoint.apiKey;
    assert.match(key, /^tce-[0-9a-f]{32}$/);
    const argv = fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
    assert.ok(argv.includes('serve'), argv);
    assert.equal(argv.includes(key), false, 'key on the command line');
    assert.equal(argv.includes('--api-key'), false);
    assert.ok(fs.readFileSync(`/proc/${s.pid}/environ`, 'utf8').split('\0').includes(`VLLM_API_KEY=${key}`));
    const models = (auth?: string) => fetch(`${s.endpoint.baseUrl}/models`, auth ? { headers: { authorization: `Bearer ${auth}` } } : {}).then((r) => r.status);
    assert.equal(await models(key), 200);
    assert.equal(await models(), 401);
    assert.deepEqual(readServerRecord(runDir).map((e) => e.pid), [s.pid], 'the pool records the pid in its run folder');
  } finally {
    await pool.close();
  }
  assert.deepEqual(readServerRecord(runDir), [], 'a stopped server leaves the record');
});

test('L3: a server left by a killed driver is reported when the run resumes; dead entries are dropped', async () => {
  const runDir = tmpDir();
  // stands in for an orphaned `vllm serve` (the argv check looks for "serve")
  const orphan = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'serve', '/models/x'], { stdio: 'ignore' });
  await new Promise((r) => orphan.once('spawn', r));
  try {
    fs.writeFileSync(path.join(runDir, SERVER_RECORD), JSON.stringify([{ role: 'verifier_8b', pid: orphan.pid, port: 41234 }, { role: 'verifier_2b', pid: 999999999, port: 41235 }]));
    const lines: string[] = [];
    new VllmPool(config(), { runDir, log: (l) => lines.push(l) });
    assert.deepEqual(lines, [`warning: vllm serve for verifier_8b (pid ${orphan.pid}, port 41234) from an earlier driver of this run is still running and holds GPU memory; stop it with \`kill -- -${orphan.pid}\` if it is not in use`]);
    assert.deepEqual(readServerRecord(runDir).map((e) => e.pid), [orphan.pid]);
  } finally {
    orphan.kill('SIGKILL');
  }
});
