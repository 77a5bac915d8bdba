// The second half of a run writer's flush, done off the driver's thread
// (run-write-worker.ts): the filled column buffers of one batch become
// LZ4-compressed Arrow files, written crash-safe, then the commit marker.
// The order of the durable steps is what makes a batch all-or-nothing
// after `kill -9` (run-writer.ts): the data files' renames are made
// durable before the marker is written, and the marker's before the batch
// counts as done.
import path from 'node:path';
import { RUN_TABLES, runTableLayouts, type RunTable } from './arrow-schema';
import { ipcFile, type FilledBatch } from './arrow-columns';
import { batchName, type CommitMarker } from './batch-names';
import { syncDir, writeDurable } from './durable-file';

export interface BatchJob {
  dir: string;
  batch: number;
  samples: number;
  tables: Record<RunTable, FilledBatch>;
}

export async function commitBatch(job: BatchJob): Promise<CommitMarker> {
  const layouts = runTableLayouts();
  const files = {} as CommitMarker['files'];
  const bytes = {} as Record<RunTable, Uint8Array>;
  for (const t of RUN_TABLES) {
    bytes[t] = ipcFile(layouts[t], job.tables[t]);
    files[t] = { file: batchName(job.batch, t), rows: job.tables[t].length, bytes: bytes[t].byteLength };
  }
  await Promise.all(RUN_TABLES.map((t) => writeDurable(path.join(job.dir, files[t].file), bytes[t])));
  // The data files' renames must be durable before the marker's.
  await syncDir(job.dir);
  const marker: CommitMarker = { batch: job.batch, samples: job.samples, files };
  await writeDurable(path.join(job.dir, batchName(job.batch, 'commit')), JSON.stringify(marker) + '\n');
  await syncDir(job.dir);
  return marker;
}
