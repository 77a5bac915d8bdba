// The counters the bulk load's inserting thread and its decoding thread
// share (batch-source.ts), apart from the Arrow and schema code, so that a
// thread that only flags its end (test 28's failing workers) starts without
// loading them.

/** Shared counters: experiments posted, experiments taken, cancelled; the
 * worker's heartbeat (bumped per decoded batch) and its exit flag. */
export const POSTED = 0, TAKEN = 1, CANCELLED = 2, HEARTBEAT = 3, EXITED = 4;
export const FLAGS = 5;

/** Flags the worker's end, however it ends (an uncaught error too), so
 * that the inserting thread stops waiting for it. Called by the worker. */
export function flagExitOnEnd(sync: SharedArrayBuffer): void {
  const flags = new Int32Array(sync);
  process.on('exit', () => {
    Atomics.store(flags, EXITED, 1);
    Atomics.notify(flags, POSTED);
  });
}
