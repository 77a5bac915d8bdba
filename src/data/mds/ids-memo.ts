// The sample_id column of a dataset, remembered within the process: the
// test suite and `tce suite` make many --limit runs in one process over the
// same dataset, and each picked its samples by reading every shard. Keyed
// by the identity (statKey: size, inode, mtime, ctime) of index.json and of
// every shard, so a rewritten or replaced file is read again.
import { shardPath } from './index-file';
import { statKey } from '../../util/verified-hashes';
import type { MdsReader } from './reader';

const MAX_DATASETS = 4;
const memo = new Map<string, readonly number[]>();

function identity(file: string): string {
  try {
    return statKey(file);
  } catch {
    return 'missing';
  }
}

/** What the ids read from `column` of `reader`'s files depend on. */
function key(reader: MdsReader, column: string): string {
  const { root, file, shards } = reader.index;
  const parts = [file, column, identity(file)];
  for (const s of shards) {
    parts.push(identity(shardPath(root, s.info.raw_data.basename, file, s.index)));
    if (s.info.zip_data) parts.push(identity(shardPath(root, s.info.zip_data.basename, file, s.index)));
  }
  return JSON.stringify(parts);
}

/** `read()`'s ids, or those it returned before for the same files. Only a
 * successful read is remembered: a failing dataset fails every time. */
export function memoizedIds(reader: MdsReader, column: string, read: () => readonly number[]): readonly number[] {
  const k = key(reader, column);
  const hit = memo.get(k);
  if (hit) return hit;
  const ids = read();
  memo.set(k, ids);
  if (memo.size > MAX_DATASETS) memo.delete(memo.keys().next().value!);
  return ids;
}
