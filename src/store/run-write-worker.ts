// Worker-thread entry of the run writers' batch commits (run-write-thread.ts
// starts it): Arrow IPC encoding, LZ4 compression and the durable writes
// of every batch run here, beside the driver, whose main thread bounds the
// run's second phase.
import { parentPort } from 'node:worker_threads';
import { commitBatch } from './batch-commit';
import type { CommitReply, CommitRequest } from './run-write-thread';
import { errorToWire } from '../util/thread-error';

const port = parentPort!;

async function handle(m: CommitRequest): Promise<void> {
  try {
    await commitBatch(m.job);
    port.postMessage({ id: m.id, ok: true } satisfies CommitReply);
  } catch (e) {
    port.postMessage({ id: m.id, ok: false, error: errorToWire(e) } satisfies CommitReply);
  }
}

port.on('message', (m: CommitRequest) => { void handle(m); });
