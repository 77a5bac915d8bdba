// Worker-thread entry of the built-in simulator (thread-host.ts starts it):
// the simulated servers get an event loop and a core of their own, so the
// driver on the main thread never waits behind request parsing, image
// decoding or tokenising. Same HTTP wire on 127.0.0.1 as in-thread.
import { parentPort } from 'node:worker_threads';
import { startSimulator, type Simulator } from './server';
import { warmTokenizer } from './tokenizer';
import type { HostReply, HostRequest } from './thread-host';
import { errorToWire } from '../../util/thread-error';

const port = parentPort!;
const sims = new Map<number, Simulator>();

function reply(m: HostReply): void {
  port.postMessage(m);
}

async function handle(m: HostRequest): Promise<void> {
  if (m.op === 'start') {
    try {
      const sim = await startSimulator(m.opts);
      sims.set(m.id, sim);
      reply({ op: 'started', id: m.id, port: sim.port });
    } catch (e) {
      reply({ op: 'failed', id: m.id, error: errorToWire(e) });
    }
    return;
  }
  const sim = sims.get(m.server);
  sims.delete(m.server);
  await sim?.close();
  reply({ op: 'closed', id: m.id });
}

port.on('message', (m: HostRequest) => { void handle(m); });
// The tokenizer loads while the main thread reads the dataset (the thread
// is started before that), not when the first server is asked for.
warmTokenizer();
