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
import { openDb, type DB } from '../src/store/db';
import { loadRuns } from '../src/store/bulk-load';

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

test('the load beside the run: both phases, committed by the load thread, hold exactly what a load of the same run folders at the end holds', async () => {
  const lines: string[] = [];
  const { o } = await options('tce-suite-stream-', { conditionIds: ['oracle_2b', 'prior_only_2b'], gate: true, force: true, load: true, loadWhileRunning: true, log: (l) => lines.push(l) });
  const r = await runSuite(o);
  assert.equal(r.outcome, 'completed');
  const loaded = lines.filter((l) => / predictions, \d+ turns, \d+ tool calls loaded$/.test(l));
  assert.equal(loaded.length, 2, lines.join('\n'));
  assert.ok(lines.indexOf(loaded[0]!) < lines.findIndex((l) => l.startsWith('oracle gate:')) + 2, 'the oracle is loaded when the first phase ends');
  const streamed = openDb(o.config.paths.db);
  const classic = openDb(path.join(path.dirname(o.config.paths.db), 'classic.db'));
  loadRuns(classic, r.runDirs);
  const rows = (db: DB) => [...['experiments', 'predictions', 'turns', 'tool_calls'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY experiment_id, ${t === 'experiments' ? 'experiment_id' : t === 'turns' ? 'sample_id, turn_index' : 'sample_id, id'}`).all().map((x) => ({ ...(x as object), id: 0, created_at: '' }))), db.prepare('SELECT * FROM texts ORDER BY id').all()];
  assert.deepEqual(rows(streamed), rows(classic));
  assert.equal((streamed.prepare('SELECT count(*) FROM predictions').pluck().get() as number), 24);
  assert.deepEqual(streamed.prepare('SELECT kind FROM run_decisions').pluck().all(), ['oracle_gate'], 'the gate decision, written by the load thread');
  streamed.close();
  classic.close();
});
