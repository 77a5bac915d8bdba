// One column of a raw shard without decoding the shard: a --limit run picks
// its samples by sample_id, and reading the dataset through MdsReader for
// that (a fresh buffer per shard, views of every column of every record)
// cost each run a third of a second. Here the file goes into one buffer
// reused for every shard (fresh pages cost a page fault each; reading a
// record at a time instead costs two syscalls a record, slower still), and
// only the column's bytes are copied out.
// The checks are those of a full read (MdsReader.loadShard and recordViews):
// file size, count and offsets, and that every record's column sizes fill it
// exactly. Not the other columns' values.
import fs from 'node:fs';
import { TceError } from '../../util/errors';
import type { ShardEntry } from './index-file';
import { checkShardHead, columnSpans, sampleFailure } from './shard-layout';

/** A buffer reused across shards, grown to the largest. */
export interface Scratch { buf: Buffer }

function readWhole(file: string, where: string, expected: number, scratch: Scratch): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size !== expected) throw new TceError('MDS_SHARD_SIZE', `${where}: ${size} bytes, index.json says ${expected} (truncated or damaged shard)`, 'copy the shard again from its source');
    if (scratch.buf.length < size) scratch.buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = fs.readSync(fd, scratch.buf, got, size - got, got);
      if (n === 0) throw new TceError('MDS_SHARD_SIZE', `${where}: ended at byte ${got} while being read (${size} bytes)`, 'copy the shard again from its source');
      got += n;
    }
    return scratch.buf.subarray(0, size);
  } finally {
    fs.closeSync(fd);
  }
}

/** The bytes of column `j` of every record of the raw shard `file`, in
 * order; each a copy (the scratch buffer is overwritten by the next shard). */
export function* readShardColumn(entry: ShardEntry, file: string, j: number, scratch: Scratch): Generator<{ local: number; bytes: Buffer }> {
  const data = readWhole(file, `${file} (shard ${entry.index})`, entry.info.raw_data.bytes, scratch);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  checkShardHead(entry, `${file} (shard ${entry.index})`, view, data.length);
  const sizes = entry.info.column_sizes;
  const u32 = (at: number) => view.getUint32(at, true);
  for (let local = 0; local < entry.info.samples; local++) {
    const begin = u32(4 + 4 * local);
    const end = u32(8 + 4 * local);
    const spans = columnSpans(u32, begin, end, sizes, sampleFailure(entry, file, local));
    let at = spans.start;
    for (let k = 0; k < j; k++) at += spans.lens[k]!;
    yield { local, bytes: Buffer.from(data.subarray(at, at + spans.lens[j]!)) };
  }
}
