// A bulk-load decoding thread that fails the way a real one can die (test
// 28): 'throws' flags its end as the real worker does and throws uncaught;
// 'exits' ends without flagging it, as a thread killed from outside would.
import { workerData } from 'node:worker_threads';
import { flagExitOnEnd } from '../../src/store/decode-flags';
import type { DecodeJob } from '../../src/store/batch-source';

const job = workerData as DecodeJob & { groups: string[][] };
const mode = job.groups[0]![0]!;
if (mode === 'throws') {
  flagExitOnEnd(job.sync);
  throw new Error('decoding thread crashed');
}
process.exit(3);
