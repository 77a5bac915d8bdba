// V8 collects the young generation (a scavenge) with helper threads beside
// the thread whose heap it is. On two cores those helpers have no core of
// their own: the simulator, the bulk load and the run writer already keep
// both busy, so what the helpers do is the same copying plus their
// coordination, taken from those threads. Five interleaved pairs of
// `tce run --limit 3000` (docs/performance.md, stop 27): all threads 0.9 to
// 8.7 CPU-s less of ~40 without them, V8's threads 2.2 to 3.1 s less, the
// main thread ~1 s more. With more cores the helpers shorten each pause at
// little cost, and V8's default stays.
import os from 'node:os';
import v8 from 'node:v8';
import { UsageError } from '../util/errors';

/** Above this many cores V8's parallel scavenge is left on. */
export const SERIAL_SCAVENGE_MAX_CORES = 2;

/** Whether to turn V8's parallel scavenge off: TCE_PARALLEL_SCAVENGE=0 / 1
 * turns it off / leaves it on; unset, off on two cores or fewer. */
export function serialScavenge(env: NodeJS.ProcessEnv = process.env, cores: number = os.availableParallelism()): boolean {
  const v = env.TCE_PARALLEL_SCAVENGE;
  if (v === '0') return true;
  if (v === '1') return false;
  if (v !== undefined && v !== '') throw new UsageError(`TCE_PARALLEL_SCAVENGE: expected 0 or 1, got ${JSON.stringify(v)}`, 'unset it: tce turns the parallel scavenge off on two cores or fewer');
  return cores <= SERIAL_SCAVENGE_MAX_CORES;
}

/** Applies serialScavenge() to this process: V8's flags are process-wide,
 * so every worker thread's heap follows, and it holds from the next
 * scavenge on (V8 reads the flag at each). Left alone otherwise, so a
 * --no-parallel-scavenge given to node itself still counts. */
export function tuneScavenge(env: NodeJS.ProcessEnv = process.env): void {
  if (serialScavenge(env)) v8.setFlagsFromString('--no-parallel-scavenge');
}
