// runSuite called in-process: it takes its stop as AbortSignals and leaves
// process signals and exit codes to the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { loadConfig } from '../src/config/load';
import { runSuite, SuiteAbandoned, type SuiteOptions } from '../src/run/suite';

async function options(prefix: string, extra: Partial<SuiteOptions>): Promise<{ o: SuiteOptions; runs: string }> {
  const dir = tmpDir(prefix);
  const cfg = writeTestConfig(dir, await sharedFixture());
  const config = loadConfig({ file: cfg }).config;
  const o: SuiteOptions = { config, conditionIds: ['prior_only_2b'], limit: 12, resume: false, force: false, quiet: true, livePredict: false, gate: false, load: false, log: () => undefined, ...extra };
  return { o, runs: config.paths.runsDir };
}

test('runSuite runs in-process without touching process signal handlers', async () => {
  const before = process.listenerCount('SIGINT');
  const { o } = await options('tce-suite-ok-', {});
  const r = await runSuite(o);
  assert.equal(r.outcome, 'completed');
  assert.equal(r.experimentIds.length, 1);
  assert.ok(r.turns >= 12, `${r.turns} turns`);
  assert.equal(process.listenerCount('SIGINT'), before);
});

test('an aborted signal starts no samples and marks the experiment interrupted', async () => {
  const stop = new AbortController();
  stop.abort();
  // The oracle runs in the first phase, so its run directory is opened.
  const { o, runs } = await options('tce-suite-stop-', { signal: stop.signal, conditionIds: ['oracle_2b'] });
  const r = await runSuite(o);
  assert.equal(r.outcome, 'interrupted');
  assert.equal(r.turns, 0);
  assert.equal(r.runDirs.length, 1);
  const exp = JSON.parse(fs.readFileSync(path.join(r.runDirs[0]!, 'experiment.json'), 'utf8')) as { status: string };
  assert.equal(exp.status, 'interrupted');
  const manifest = fs.readdirSync(runs).find((f) => f.startsWith('_suite_'))!;
  assert.equal((JSON.parse(fs.readFileSync(path.join(runs, manifest), 'utf8')) as { status: string }).status, 'interrupted');
});

test('abandon rejects with SuiteAbandoned and still releases what the suite opened', async () => {
  const abandon = new AbortController();
  abandon.abort();
  const { o } = await options('tce-suite-abandon-', { abandon: abandon.signal });
  await assert.rejects(runSuite(o), SuiteAbandoned);
  // The simulator and clients close once the (stopped) run settles; the
  // test process would not exit otherwise.
});
