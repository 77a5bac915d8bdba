// Ctrl-C during a suite: the first stops new samples and lets in-flight turns
// finish (at most INTERRUPT_GRACE_S); the second, or the end of the grace
// period, flushes what is finished and exits at once. The suite itself only
// sees two AbortSignals; signals and the exit code belong here.
import { runSuite, SuiteAbandoned, type SuiteOptions, type SuiteResult } from '../run/suite';

/** How long in-flight turns may take to finish after the first Ctrl-C. */
const INTERRUPT_GRACE_S = 30;
/** Exit code of a process ended by SIGINT, as a shell reports it. */
export const EXIT_INTERRUPTED = 130;

export async function runSuiteInterruptible(o: SuiteOptions): Promise<SuiteResult> {
  const stop = new AbortController();
  const abandon = new AbortController();
  let sigints = 0;
  let grace: NodeJS.Timeout | null = null;
  const giveUp = (why: string): void => {
    o.log(`${why}: flushing and exiting`);
    abandon.abort();
  };
  const onSigint = (): void => {
    sigints++;
    if (sigints === 1) {
      stop.abort();
      o.log(`interrupt: no new samples; letting in-flight turns finish (at most ${INTERRUPT_GRACE_S} s; Ctrl-C again to flush and exit now)`);
      grace = setTimeout(() => giveUp('grace period over'), INTERRUPT_GRACE_S * 1000);
      grace.unref();
    } else {
      giveUp('second interrupt');
    }
  };
  process.on('SIGINT', onSigint);
  try {
    return await runSuite({ ...o, signal: stop.signal, abandon: abandon.signal });
  } catch (e) {
    // In-flight requests and servers would keep the process alive.
    if (e instanceof SuiteAbandoned) process.exit(EXIT_INTERRUPTED);
    throw e;
  } finally {
    if (grace) clearTimeout(grace);
    process.off('SIGINT', onSigint);
  }
}
