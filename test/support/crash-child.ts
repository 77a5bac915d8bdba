// The child of test 27: appends synthetic samples to a run directory and
// flushes every 5, until it is killed. Its own module, so that each of the
// test's many children loads only the writer (not the test runner, the CLI
// or SQLite): node's start is most of a child's cost.
import { openRunWriter } from '../../src/store/run-writer';
import type { ExperimentRow } from '../../src/store/rows';
import { syntheticRecord } from './synthetic-records';

export const CRASH_EXP: ExperimentRow = { experiment_id: 'tc_crash_2b_20260101_000000', condition_name: 'baseline', pipeline: 'A', config_hash: 'crash', status: 'running' };

/** Writes into `runsDir` forever, announcing each flush on stdout. */
async function child(runsDir: string): Promise<void> {
  const w = openRunWriter(runsDir, CRASH_EXP, { flushRows: 5 });
  const done = w.doneSampleIds();
  for (let sid = 0; ; sid++) {
    if (done.has(sid)) continue;
    w.append(syntheticRecord(sid, { textChars: 20_000 }));
    if (sid % 5 === 4) {
      // stdout to a pipe is synchronous: the parent hears of a flush as it starts
      process.stdout.write('flush\n');
      await w.flush();
      process.stdout.write('flushed\n');
    }
  }
}

if (require.main === module) void child(process.argv[2]!);
