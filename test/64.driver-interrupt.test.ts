import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tmpDir, TCE_BIN } from './helpers/cli';
import { loadConfig } from '../src/config/load';
import { runSuite } from '../src/run/suite';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { readRunDir } from '../src/store/run-reader';

// Small batches and few samples in flight: the first batch is committed
// after 4 samples, and what is in flight then is far from the last of LIMIT.
// Each sample the child runs costs it CPU (the latency model's timed
// writes), and the resume runs the rest: both sized to what the test needs.
const LIMIT = 40;
const SMALL = { run: { flushSamples: 4 }, concurrency: { initial: 4, adaptive: false } };

/** Starts `tce run` with the latency model and waits for its first committed batch. */
async function runUntilFirstCommit(prefix: string) {
  const fixture = await sharedFixture();
  const dir = tmpDir(prefix);
  // The latency model makes turns take real time, so the interrupt lands mid-run.
  const cfg = writeTestConfig(dir, fixture, { backend: { simulator: { latency: true } }, ...SMALL });
  const runs = path.join(dir, 'tool_calling_experiment', 'runs');
  const child = spawn(process.execPath, [TCE_BIN, 'run', '--config', cfg, '--limit', String(LIMIT), '--conditions', 'all_tools_8b', '--no-report'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = { err: '' };
  const waiting: Array<{ re: RegExp; resolve: () => void }> = [];
  child.stderr.on('data', (d: Buffer) => {
    log.err += d.toString();
    for (const w of waiting.splice(0)) if (w.re.test(log.err)) w.resolve(); else waiting.push(w);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves once stderr matches `re` (or the process has exited). */
  const heard = (re: RegExp) => new Promise<void>((resolve) => {
    if (re.test(log.err)) return resolve();
    waiting.push({ re, resolve });
    void exited.then(() => resolve());
  });
  const commits = () => {
    const d = fs.existsSync(runs) ? fs.readdirSync(runs).find((x) => x.startsWith('tc_all_tools_8b')) : undefined;
    return d ? fs.readdirSync(path.join(runs, d)).filter((f) => f.endsWith('.commit.json')).length : 0;
  };
  const deadline = Date.now() + 60_000;
  while (commits() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return { fixture, dir, cfg, runs, child, log, exited, heard };
}

// The two runs spend most of their time waiting for the latency model's
// simulated GPU, not on a core: they run side by side.
describe('SIGINT', { concurrency: 2 }, () => {
  test('Ctrl-C: in-flight turns finish, everything is flushed, experiments are marked interrupted; resume completes', async (t) => {
    const { fixture, dir, cfg, runs, child, log, exited } = await runUntilFirstCommit('tce-sigint-');
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, log.err);
    assert.match(log.err, /interrupt: no new samples/);
    const expDir = fs.readdirSync(runs).find((x) => x.startsWith('tc_all_tools_8b'))!;
    const exp = JSON.parse(fs.readFileSync(path.join(runs, expDir, 'experiment.json'), 'utf8')) as { status: string };
    assert.equal(exp.status, 'interrupted');
    const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
    const partial = (db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n;
    db.close();
    assert.ok(partial > 0 && partial < LIMIT, `interrupted run loaded ${partial} samples`);
    t.diagnostic(`interrupted after ${partial} of ${LIMIT} samples`);

    // The rest runs without the latency model: a timing-only setting, so the
    // same experiment continues (and the test does not wait for simulated GPUs).
    // In this process (as `tce run --no-report` calls it, without the CLI's
    // signal handlers): a third node start and CLI load was most of its cost.
    writeTestConfig(dir, fixture, { backend: { simulator: { latency: false } }, ...SMALL });
    const config = loadConfig({ file: cfg }).config;
    const r = await runSuite({ config, conditionIds: ['all_tools_8b'], limit: LIMIT, resume: false, force: false, quiet: true, livePredict: false, gate: true, load: true, log: () => undefined });
    assert.equal(r.outcome, 'completed');
    const db2 = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
    const rows = db2.prepare('SELECT count(*) AS n, count(DISTINCT sample_id) AS d, count(DISTINCT experiment_id) AS e FROM predictions').get() as { n: number; d: number; e: number };
    const status = (db2.prepare('SELECT status FROM experiments').get() as { status: string }).status;
    db2.close();
    assert.equal(status, 'completed', 'the reloaded experiment row reflects the finished run');
    assert.deepEqual(rows, { n: LIMIT, d: LIMIT, e: 1 });
  });

  test('a second Ctrl-C flushes what is finished and exits 130 at once; the run directory stays readable', async () => {
    const { runs, child, log, exited, heard } = await runUntilFirstCommit('tce-sigint2-');
    child.kill('SIGINT');
    await heard(/interrupt: no new samples/);
    child.kill('SIGINT');
    assert.equal(await exited, 130, log.err);
    assert.match(log.err, /second interrupt: flushing and exiting/);
    // The committed batches are whole (reading checks each against its
    // commit marker) and a resume starts from them.
    const expDir = fs.readdirSync(runs).find((x) => x.startsWith('tc_all_tools_8b'))!;
    const run = readRunDir(path.join(runs, expDir));
    assert.ok(run.tables.predictions.length > 0 && run.tables.predictions.length < LIMIT, `${run.tables.predictions.length} samples on disk`);
  });
});
