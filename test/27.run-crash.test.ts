// kill -9 at random moments while a child process appends and flushes:
// whatever survives must be whole samples, each exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { rng } from './helpers/extract-fuzz';
import { openRunWriter } from '../src/store/run-writer';
import { readRunDir } from '../src/store/run-reader';
import { scanRunDir } from '../src/store/run-dir';
import { loadRuns } from '../src/store/bulk-load';
import { openDb } from '../src/store/db';
import { syntheticRecord } from './support/synthetic-records';
import type { ExperimentRow } from '../src/store/rows';

const EXP: ExperimentRow = { experiment_id: 'tc_crash_2b_20260101_000000', condition_name: 'baseline', pipeline: 'A', config_hash: 'crash', status: 'running' };
const CHILD_ENV = 'TCE_TEST_CRASH_RUNS_DIR';

async function child(runsDir: string): Promise<void> {
  const w = openRunWriter(runsDir, EXP, { flushRows: 5 });
  const done = w.doneSampleIds();
  process.stdout.write('ready\n');
  for (let sid = 0; ; sid++) {
    if (done.has(sid)) continue;
    w.append(syntheticRecord(sid, { textChars: 20_000 }));
    if (sid % 5 === 4) await w.flush();
  }
}

function runAndKill(runsDir: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [__filename], { env: { ...process.env, [CHILD_ENV]: runsDir }, stdio: ['ignore', 'pipe', 'inherit'] });
    let killed = false;
    p.stdout.on('data', (d: Buffer) => {
      if (!killed && d.toString().includes('ready')) { killed = true; setTimeout(() => p.kill('SIGKILL'), delayMs); }
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code ?? signal} before the kill`))));
  });
}

if (process.env[CHILD_ENV]) {
  void child(process.env[CHILD_ENV]);
} else {
  test('after kill -9 at random moments every surviving sample is whole and loads exactly once', async (t) => {
    const runs = tmpDir();
    const dir = path.join(runs, EXP['experiment_id'] as string);
    let withLeftovers = 0;
    let round = 0;
    // Seeded kill moments. At least 8 kills, then more until some batches
    // are committed: on a busy machine an early kill finds the child before
    // its first flush, so each further kill comes a little later.
    const rand = rng(Number(process.env['TCE_CRASH_SEED'] ?? 27));
    for (let committed = 0; round < 8 || committed < 5; round++) {
      assert.ok(round < 60, `no batch committed after ${round} kills`);
      await runAndKill(runs, 20 + Math.floor(rand() * 300) + Math.max(0, round - 7) * 100);
      const scan = scanRunDir(dir);
      if (scan.leftovers.length) withLeftovers++;
      committed = scan.committed.reduce((n, b) => n + b.marker.samples, 0);
    }
    t.diagnostic(`${withLeftovers} of ${round} kills left a half-written batch behind`);

    const w = openRunWriter(runs, EXP);
    const done = w.doneSampleIds();
    assert.ok(done.size >= 5, `the child made progress (${done.size} samples)`);
    assert.deepEqual(scanRunDir(w.dir).leftovers, [], 'reopening removed the half-written batches');
    const run = readRunDir(w.dir);
    const sids = Array.from({ length: run.tables.predictions.length }, (_, i) => run.tables.predictions.columns['sample_id']![i] as number);
    assert.equal(new Set(sids).size, sids.length, 'no sample twice');
    assert.deepEqual(new Set(sids), done);
    // whole samples: each has exactly the turns and tool calls it was made with
    for (const table of ['turns', 'tool_calls'] as const) {
      const per = new Map<number, number>();
      const col = run.tables[table].columns['sample_id']!;
      for (let i = 0; i < col.length; i++) per.set(col[i] as number, (per.get(col[i] as number) ?? 0) + 1);
      for (const sid of sids) assert.equal(per.get(sid) ?? 0, table === 'turns' ? sid % 4 : sid % 3, `${table} of sample ${sid}`);
    }
    // the resumed run finishes the gaps; the database gets each sample once
    const max = Math.max(...sids);
    for (let sid = 0; sid <= max + 3; sid++) if (!done.has(sid)) w.append(syntheticRecord(sid, { textChars: 20_000 }));
    await w.finish({ ...EXP, status: 'completed' });
    const db = openDb(path.join(tmpDir(), 't.db'));
    const r = loadRuns(db, [w.dir]);
    assert.equal(r.predictions, max + 4);
    const dup = db.prepare('SELECT count(*) AS n, count(DISTINCT sample_id) AS d, min(sample_id) AS lo, max(sample_id) AS hi FROM predictions').get();
    assert.deepEqual(dup, { n: max + 4, d: max + 4, lo: 0, hi: max + 3 });
    assert.equal(loadRuns(db, [w.dir]).predictions, 0);
    db.close();
    fs.rmSync(runs, { recursive: true, force: true });
  });
}
