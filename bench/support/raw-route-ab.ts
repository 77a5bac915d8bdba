// Interleaved A/B of the raw route's socket kinds (and the twin, the floor)
// on the runner bench's replay server, measured as the bench measures them
// (process CPU per turn, median of 3 trials after a warm-up):
//   node dist/bench/support/raw-route-ab.js paced|bursty net,io,io0,twin,floor [turns] [rounds] [stream interval]
// Each round measures every kind once, in the order given. `io` is the I/O
// thread with its default poll window, `ioN` with a window of N µs;
// `ioread` is `io` with each socket read by its own read() (TCE_IO_URING=0).
import { createStreamEngine } from '../../src/extract/engine';
import { FeedBatcher } from '../../src/run/feed-batcher';
import { NativeChatClient, type TurnRoute } from '../../src/run/turn';
import { measure } from '../harness';
import { drive, startReplay } from '../runner.bench';
import { readFloor } from './read-floor';
import { DEFAULT_IO_WINDOW_US, ioLoopStats, setIoBatch, setIoWindow } from '../../src/run/io-http';
import { requireNative } from '../../src/native/loader';

async function main(): Promise<void> {
  const [mode = 'paced', kinds = 'net,io', turnsArg, roundsArg, intervalArg] = process.argv.slice(2);
  if (mode !== 'paced' && mode !== 'bursty') throw new Error('mode: paced or bursty');
  const turns = Number(turnsArg ?? (mode === 'paced' ? 1500 : 4000));
  const rounds = Number(roundsArg ?? 2);
  const { url, child } = await startReplay(mode, Number(intervalArg ?? 1));
  const ep = { role: 'verifier_8b' as const, baseUrl: url, apiKey: 'x', model: 'qwen3-vl-8b' };
  const out: Record<string, number[]> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      for (const k of kinds.split(',')) {
        let m;
        if (k === 'floor') m = await measure(() => readFloor(url, turns, 64), turns, { trials: 3, warmup: 1 });
        else {
          const e = createStreamEngine(k === 'twin' ? 'typescript' : 'native');
          const window = /^io\d+$/.test(k) ? Number(k.slice(2)) : k === 'io' || k === 'ioread' ? DEFAULT_IO_WINDOW_US : null;
          const c = new NativeChatClient(ep, e, new FeedBatcher(e), 64, k === 'twin' ? 'auto' : window !== null ? 'io' : (k as TurnRoute));
          if (window !== null) setIoWindow(requireNative(), window);
          setIoBatch(requireNative(), k !== 'ioread');
          m = await measure(() => drive(c, turns, 64), turns, { trials: 3, warmup: 1 });
          await c.close();
        }
        (out[k] ??= []).push(Math.round(m.cpuNsPerOp / 100) / 10);
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  process.stdout.write(`${mode} driver CPU µs/turn by round: ${JSON.stringify(out)}\n`);
  process.stdout.write(`I/O thread: ${JSON.stringify(ioLoopStats(requireNative()))}\n`);
}

void main();
