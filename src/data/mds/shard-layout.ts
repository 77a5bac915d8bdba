// The byte layout of an MDS shard, checked: the sample count and offset
// table at its head, and each record's column sizes. Shared by the reader,
// which holds whole shards, and column-read.ts, which reads one column.
import { TceError } from '../../util/errors';
import type { ShardEntry } from './index-file';

/** Checks the sample count and offset table at the head of a shard file of
 * `length` bytes (`view` holds at least that head): what every read of the
 * shard relies on. `where` names the file in the error. */
export function checkShardHead(entry: ShardEntry, where: string, view: DataView, length: number): void {
  const bad = (msg: string): never => { throw new TceError('MDS_SHARD_CORRUPT', `${where}: ${msg}`, 'the shard is damaged or does not belong to this index.json'); };
  if (length < 4) bad('shorter than its 4-byte sample count');
  const n = view.getUint32(0, true);
  if (n !== entry.info.samples) bad(`holds ${n} samples, index.json says ${entry.info.samples}`);
  const headEnd = 4 + 4 * (n + 1);
  if (headEnd > length) bad(`offset table (${n + 1} entries) runs past the end of the file`);
  let prev = headEnd;
  for (let k = 0; k <= n; k++) {
    const off = view.getUint32(4 + 4 * k, true);
    if (off < prev || off > length) bad(`offset ${k} (sample ${entry.first + k}) is ${off}, outside ${prev}..${length}`);
    prev = off;
  }
  if (prev !== length) bad(`last offset is ${prev} but the file has ${length} bytes`);
}

/** Byte length of every column of the record [begin, end) and where the
 * first starts, from its size header (`u32(at)` reads the header's word at
 * file offset `at`); `fail` throws when the sizes do not fill the record exactly. */
export function columnSpans(u32: (at: number) => number, begin: number, end: number, sizes: ReadonlyArray<number | null>, fail: (msg: string, col?: number) => never): { start: number; lens: number[] } {
  let p = begin;
  const lens = new Array<number>(sizes.length);
  for (let j = 0; j < sizes.length; j++) {
    const fixed = sizes[j];
    if (fixed) { lens[j] = fixed; continue; }
    if (p + 4 > end) fail('record too short for its size header', j);
    lens[j] = u32(p);
    p += 4;
  }
  const start = p;
  for (let j = 0; j < sizes.length; j++) {
    if (p + lens[j]! > end) fail(`size mismatch: ${lens[j]} bytes declared, only ${end - p} left in the ${end - begin}-byte record`, j);
    p += lens[j]!;
  }
  if (p !== end) fail(`size mismatch: columns add up to ${p - begin} bytes, the record has ${end - begin}`);
  return { start, lens };
}

/** The error of a damaged record: names the file, shard, sample and column. */
export function sampleFailure(entry: ShardEntry, file: string, local: number): (msg: string, col?: number) => never {
  return (msg, col) => {
    throw new TceError('MDS_SAMPLE_CORRUPT', `${file} (shard ${entry.index}), sample ${entry.first + local}${col === undefined ? '' : `, column '${entry.info.column_names[col]}'`}: ${msg}`, 'the shard is damaged or was not written by an MDS writer');
  };
}
