// Worker-thread entry of the suite's load while it runs (load-thread.ts):
// its own connection, a StreamLoad fed in the order the suite sends. The
// first error rolls the open phase back and is reported at once; later
// requests are answered with it, so nothing is half-loaded and the suite
// never waits on a thread that gave up.
import { parentPort, workerData } from 'node:worker_threads';
import { openDb, type DB } from './db';
import { StreamLoad } from './stream-load';
import { errorToWire, type WireError } from '../util/thread-error';
import type { LoadReply, LoadRequest } from './load-thread';

const port = parentPort!;
let db: DB | null = null;
let load: StreamLoad | null = null;
let failed: WireError | null = null;
try {
  db = openDb((workerData as { file: string }).file);
  load = new StreamLoad(db, (line) => port.postMessage({ log: line } satisfies LoadReply));
} catch (e) {
  failed = errorToWire(e);
  port.postMessage({ failed } satisfies LoadReply);
}

function apply(load: StreamLoad, m: LoadRequest): unknown {
  switch (m.op) {
    case 'begin': return load.beginPhase();
    case 'open': return load.opened(m.id, m.dir, m.fresh);
    case 'batch': return load.committed(m.id, m.batch);
    case 'finish': return load.finished(m.id);
    case 'commit': return load.commitPhase();
    case 'decision': return load.decision(m.kind, m.decision, m.details);
    case 'end': return load.end();
    case 'abort': return load.rollback();
  }
}

port.on('message', (m: LoadRequest) => {
  if (load && (!failed || m.op === 'abort')) {
    try {
      const result = apply(load, m);
      if (m.reply !== undefined) port.postMessage({ reply: m.reply, ok: true, result } satisfies LoadReply);
    } catch (e) {
      failed = errorToWire(e);
      try { load.rollback(); } catch { /* the error above is the one to report */ }
      port.postMessage({ failed } satisfies LoadReply);
    }
  } else if (m.reply !== undefined) {
    port.postMessage({ reply: m.reply, ok: false, error: failed! } satisfies LoadReply);
  }
  if (m.op === 'end' || m.op === 'abort') {
    db?.close();
    port.close();
  }
});
