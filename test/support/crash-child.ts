// The child of test 27: appends synthetic samples to a run directory and
// flushes every 5, until it is killed. Its own module, so that each of the
// test's many children loads only the writer (not the test runner, the CLI
// or SQLite): node's start is most of a child's cost.
//
// It sends itself the SIGKILL, timed from the moment the aimed flush's
// first file appears (its main thread only waits while the writer thread
// writes the batch, so it sees that within a millisecond): `share` below 1
// lands inside the batch's writes, above 1 after them. A kill the parent
// timed from the child's output landed late on a busy machine, after the
// batch was committed, and a kill timed from the flush's start mostly
// before its first write (a first flush also starts the writer thread).
import fs from 'node:fs';
import { openRunWriter } from '../../src/store/run-writer';
import type { ExperimentRow, RunWriter } from '../../src/store/rows';
import { syntheticRecord } from './synthetic-records';

export const CRASH_EXP: ExperimentRow = { experiment_id: 'tc_crash_2b_20260101_000000', condition_name: 'baseline', pipeline: 'A', config_hash: 'crash', status: 'running' };

/** Where the child kills itself: in its `flushes`-th flush, `share` of
 * `writeMs` (how long a batch's writes last) after its first file appears. */
export interface KillMoment { flushes: number; share: number; writeMs: number }

/** A flush, watching the run directory for its first file; the kill, when
 * given, is set off then (or, when the writes were over before a poll saw
 * them, once the flush has returned). Returns how long the writes took. */
async function watchedFlush(w: RunWriter, killAfterMs: number | null): Promise<number> {
  const before = new Set(fs.readdirSync(w.dir));
  let firstFile = 0;
  const kill = () => { if (killAfterMs !== null) setTimeout(() => process.kill(process.pid, 'SIGKILL'), killAfterMs); };
  const poll = setInterval(() => {
    if (firstFile === 0 && fs.readdirSync(w.dir).some((f) => !before.has(f))) { firstFile = performance.now(); kill(); }
  }, 1);
  try {
    await w.flush();
  } finally {
    clearInterval(poll);
  }
  if (firstFile === 0) kill();
  return firstFile === 0 ? 0 : performance.now() - firstFile;
}

/** Writes into `runsDir` until the kill, announcing each flush's writes on
 * stdout (`flushed MS`). */
async function child(runsDir: string, at: KillMoment): Promise<void> {
  const w = openRunWriter(runsDir, CRASH_EXP, { flushRows: 5 });
  const done = w.doneSampleIds();
  let flushes = 0;
  for (let sid = 0; ; sid++) {
    if (done.has(sid)) continue;
    w.append(syntheticRecord(sid, { textChars: 20_000 }));
    if (sid % 5 === 4) {
      const ms = await watchedFlush(w, ++flushes === at.flushes ? Math.floor(at.share * at.writeMs) : null);
      process.stdout.write(`flushed ${Math.round(ms)}\n`);
    }
  }
}

if (require.main === module) {
  const [runsDir, flushes, share, writeMs] = process.argv.slice(2);
  void child(runsDir!, { flushes: Number(flushes), share: Number(share), writeMs: Number(writeMs) });
}
