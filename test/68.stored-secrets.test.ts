// An endpoint URL with a user name and password works, but neither is
// stored: not in experiments.config_json, turns.endpoint or the Arrow files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { startSimulator } from '../src/backends/sim/server';

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

test('L1: credentials in an endpoint URL are stripped before anything is stored', async () => {
  const fixture = await sharedFixture();
  const sim = await startSimulator({ seed: 1, apiKey: 'k', models: [{ servedModelName: 'remote-8b', profile: 'qwen3-vl-8b' }] });
  const dir = tmpDir('tce-cred-');
  try {
    const url = sim.baseUrl.replace('http://', 'http://alice:hunter2@');
    const cfg = writeTestConfig(dir, fixture, { backend: { kind: 'endpoints', endpoints: [{ model: 'verifier_8b', url, apiKey: 'k', servedModelName: 'remote-8b' }] } });
    const r = await tce(['run', '--config', cfg, '--conditions', 'oracle_8b', '--limit', '4', '--quiet', '--no-report'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
    const cj = (db.prepare('SELECT config_json FROM experiments').get() as { config_json: string }).config_json;
    assert.ok(cj.includes(sim.baseUrl), 'the URL itself is kept');
    const endpoints = (db.prepare('SELECT DISTINCT endpoint FROM turns_full').all() as Array<{ endpoint: string }>).map((x) => x.endpoint);
    db.close();
    assert.deepEqual(endpoints, [sim.baseUrl]);
    const runs = path.join(dir, 'tool_calling_experiment', 'runs');
    const stored = [...filesUnder(runs), path.join(dir, 'tool_calling_experiment', 'tool_calling.db')];
    for (const f of stored) {
      const bytes = fs.readFileSync(f);
      assert.equal(bytes.includes('hunter2'), false, `${f} holds the password`);
      assert.equal(bytes.includes('alice'), false, `${f} holds the user name`);
    }
  } finally {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
