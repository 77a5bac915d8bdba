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
import { CRASH_EXP as EXP, type KillMoment } from './support/crash-child';

const CHILD = path.join(__dirname, 'support', 'crash-child.js');

/** How long a batch's writes lasted in the children's last flush, in ms:
 * where the next kill is aimed. */
let writeMs = 20;

/** Runs a child that kills itself at `at` (support/crash-child.ts). */
function runAndKill(runsDir: string, at: Omit<KillMoment, 'writeMs'>): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, runsDir, String(at.flushes), String(at.share), String(writeMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) if (/^flushed \d+$/.test(line) && line !== 'flushed 0') writeMs = Number(line.slice(8));
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code ?? signal} before the kill`))));
  });
}

test('after kill -9 at random moments every surviving sample is whole and loads exactly once', async (t) => {
  const runs = tmpDir();
  const dir = path.join(runs, EXP['experiment_id'] as string);
  let withLeftovers = 0;
  let round = 0;
  // Seeded kill moments, placed by the child's flushes rather than the
  // clock (on a busy machine a kill a fixed time after start mostly found
  // the child before its first flush): during or after its first or second
  // flush. At least 8 kills, then more until some batches are committed,
  // each a flush later.
  const rand = rng(Number(process.env['TCE_CRASH_SEED'] ?? 27));
  for (let committed = 0; round < 8 || committed < 5; round++) {
    assert.ok(round < 60, `no batch committed after ${round} kills`);
    await runAndKill(runs, { flushes: 1 + Math.floor(rand() * 2) + Math.max(0, round - 7), share: rand() * 2 });
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
