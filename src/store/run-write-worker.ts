// Worker-thread entry of the run writers' batch commits (run-write-thread.ts
// starts it): Arrow IPC encoding, LZ4 compression and the durable writes
// of every batch run here, beside the driver, whose main thread bounds the
// run's second phase.
import { parentPort } from 'node:worker_threads';
import { commitBatch } from './batch-commit';
import type { CommitReply, CommitRequest } from './run-write-thread';

const port = parentPort!;

async function handle(m: CommitRequest): Promise<void> {
  try {
    await commitBatch(m.job);
    port.postMessage({ id: m.id, ok: true } satisfies CommitReply);
  } catch (e) {
    const err: Error & { code?: unknown; hint?: unknown } = e instanceof Error ? e : new Error(String(e));
    const code = typeof err.code === 'string' ? err.code : undefined;
    const hint = typeof err.hint === 'string' ? err.hint : undefined;
    port.postMessage({ id: m.id, ok: false, error: { name: err.name, message: err.message, code, hint, tce: err.name === 'TceError' } } satisfies CommitReply);
  }
}

port.on('message', (m: CommitRequest) => { void handle(m); });
