// Reads a local MDS dataset: random access by global sample index and
// streaming iteration. A shard is read (and decompressed) once and its
// header checked; samples are then views into that buffer, decoded per
// column on demand. Every failure names the file, shard, sample and column.
import fs from 'node:fs';
import { createHash, getHashes } from 'node:crypto';
import { TceError } from '../../util/errors';
import { readMdsIndex, shardPath, type MdsIndex, type ShardEntry, type FileInfo } from './index-file';
import { MdsValueError, type MdsValue } from './encodings';
import { decompressShard, UnsupportedCodecError } from './compression';
import { checkShardHead, columnSpans, sampleFailure } from './shard-layout';
import { readShardColumn } from './column-read';

export interface MdsReaderOptions {
  /** Verify the hashes index.json lists for each shard file (off by default, as in the reference library). */
  validateHashes?: boolean;
  /** Decoded shards kept in memory (least recently used dropped first). */
  maxCachedShards?: number;
}

export interface MdsColumn { name: string; encoding: string; size: number | null }

interface LoadedShard {
  entry: ShardEntry;
  file: string;
  data: Uint8Array;
  view: DataView;
}

const NODE_HASH: Record<string, string> = { blake2b: 'blake2b512', blake2s: 'blake2s256' };

function fileHashCheck(file: string, bytes: Uint8Array, info: FileInfo): void {
  const names = Object.keys(info.hashes);
  if (names.length === 0) return;
  const available = new Set(getHashes());
  const usable = names.filter((n) => available.has(NODE_HASH[n] ?? n));
  if (usable.length === 0) throw new TceError('MDS_HASH', `${file}: cannot verify hashes ${names.join(', ')} (none is available in node:crypto)`, 'turn hash validation off or re-write the index with sha1/sha256/md5');
  for (const n of usable) {
    const got = createHash(NODE_HASH[n] ?? n).update(bytes).digest('hex');
    if (got !== info.hashes[n]!.toLowerCase()) throw new TceError('MDS_HASH', `${file}: ${n} hash mismatch (index.json lists ${info.hashes[n]}, the file hashes to ${got})`, 'the shard is damaged or does not belong to this index.json');
  }
}

export class MdsReader {
  readonly index: MdsIndex;
  readonly columns: MdsColumn[];
  private readonly opts: Required<MdsReaderOptions>;
  private readonly cache = new Map<number, LoadedShard>();

  private constructor(index: MdsIndex, opts: MdsReaderOptions) {
    this.index = index;
    this.opts = { validateHashes: opts.validateHashes ?? false, maxCachedShards: opts.maxCachedShards ?? 8 };
    const first = index.shards[0]?.info;
    this.columns = first ? first.column_names.map((name, j) => ({ name, encoding: first.column_encodings[j]!, size: first.column_sizes[j] ?? null })) : [];
    for (const s of index.shards) {
      if (s.info.column_names.join('\0') !== first!.column_names.join('\0') || s.info.column_encodings.join('\0') !== first!.column_encodings.join('\0')) {
        throw new TceError('MDS_INDEX', `${index.file}: shards[${s.index}] has columns ${s.info.column_names.join(', ')} (${s.info.column_encodings.join(', ')}), unlike shards[0]`, 'every shard of one dataset must carry the same columns');
      }
    }
  }

  static open(root: string, opts: MdsReaderOptions = {}): MdsReader {
    return new MdsReader(readMdsIndex(root), opts);
  }

  get length(): number {
    return this.index.total;
  }

  columnIndex(name: string): number {
    const j = this.columns.findIndex((c) => c.name === name);
    if (j < 0) throw new TceError('MDS_COLUMN', `${this.index.file}: no column '${name}' (columns: ${this.columns.map((c) => c.name).join(', ')})`, 'map the field to one of the listed columns in config dataset.mapping');
    return j;
  }

  /** Which shard holds a global index (binary search over shard starts). */
  locate(i: number): { entry: ShardEntry; local: number } {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`sample index ${i} is outside 0..${this.length - 1}`);
    const shards = this.index.shards;
    let lo = 0;
    let hi = shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (shards[mid]!.first <= i) lo = mid; else hi = mid - 1;
    }
    const entry = shards[lo]!;
    return { entry, local: i - entry.first };
  }

  private shard(entry: ShardEntry): LoadedShard {
    const hit = this.cache.get(entry.index);
    if (hit) {
      this.cache.delete(entry.index);
      this.cache.set(entry.index, hit);
      return hit;
    }
    const loaded = this.loadShard(entry);
    this.cache.set(entry.index, loaded);
    while (this.cache.size > this.opts.maxCachedShards) this.cache.delete(this.cache.keys().next().value!);
    return loaded;
  }

  private loadShard(entry: ShardEntry): LoadedShard {
    const { info } = entry;
    const root = this.index.root;
    const rawFile = shardPath(root, info.raw_data.basename, this.index.file, entry.index);
    const where = (f: string) => `${f} (shard ${entry.index})`;
    let data: Uint8Array;
    let file = rawFile;
    if (fs.existsSync(rawFile)) {
      data = fs.readFileSync(rawFile);
      if (data.length !== info.raw_data.bytes) throw new TceError('MDS_SHARD_SIZE', `${where(rawFile)}: ${data.length} bytes, index.json says ${info.raw_data.bytes} (truncated or damaged shard)`, 'copy the shard again from its source');
      if (this.opts.validateHashes) fileHashCheck(where(rawFile), data, info.raw_data);
    } else if (info.zip_data && info.compression) {
      file = shardPath(root, info.zip_data.basename, this.index.file, entry.index);
      let zip: Uint8Array;
      try {
        zip = fs.readFileSync(file);
      } catch {
        throw new TceError('MDS_SHARD_MISSING', `${where(rawFile)}: missing, and so is its compressed form ${file}`, 'copy the shard files next to index.json');
      }
      if (zip.length !== info.zip_data.bytes) throw new TceError('MDS_SHARD_SIZE', `${where(file)}: ${zip.length} bytes, index.json says ${info.zip_data.bytes} (truncated or damaged shard)`, 'copy the shard again from its source');
      if (this.opts.validateHashes) fileHashCheck(where(file), zip, info.zip_data);
      try {
        data = decompressShard(info.compression, zip);
      } catch (e) {
        if (e instanceof UnsupportedCodecError) throw new TceError('MDS_CODEC', `${where(file)}: ${e.message}`, 'decompress the shards with the codec\'s own tool, then keep the raw .mds files next to index.json');
        throw new TceError('MDS_SHARD_CORRUPT', `${where(file)}: cannot decompress ${info.compression} data (${(e as Error).message})`, 'copy the shard again from its source');
      }
      if (data.length !== info.raw_data.bytes) throw new TceError('MDS_SHARD_SIZE', `${where(file)}: decompresses to ${data.length} bytes, index.json says ${info.raw_data.bytes}`, 'copy the shard again from its source');
    } else {
      throw new TceError('MDS_SHARD_MISSING', `${where(rawFile)}: missing`, 'copy the shard files next to index.json');
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    checkShardHead(entry, where(file), view, data.length);
    return { entry, file, data, view };
  }

  /** Column byte views of sample `i` (no copies), in column order. */
  views(i: number): Uint8Array[] {
    const { entry, local } = this.locate(i);
    const s = this.shard(entry);
    return this.recordViews(s, local);
  }

  private recordViews(s: LoadedShard, local: number): Uint8Array[] {
    const begin = s.view.getUint32(4 + 4 * local, true);
    const end = s.view.getUint32(8 + 4 * local, true);
    const codecs = s.entry.codecs;
    const sizes = s.entry.info.column_sizes;
    const spans = columnSpans((at) => s.view.getUint32(at, true), begin, end, sizes, sampleFailure(s.entry, s.file, local));
    const out = new Array<Uint8Array>(codecs.length);
    let p = spans.start;
    for (let j = 0; j < codecs.length; j++) {
      out[j] = s.data.subarray(p, p + spans.lens[j]!);
      p += spans.lens[j]!;
    }
    return out;
  }

  private decodeAt(s: Pick<LoadedShard, 'entry' | 'file'>, local: number, views: Uint8Array[], j: number): MdsValue {
    try {
      return s.entry.codecs[j]!.decode(views[j]!);
    } catch (e) {
      if (!(e instanceof MdsValueError)) throw e;
      throw new TceError('MDS_VALUE', `${s.file} (shard ${s.entry.index}), sample ${s.entry.first + local}, column '${s.entry.info.column_names[j]}' (${s.entry.info.column_encodings[j]}): ${e.message}`, 'the value does not match its column encoding');
    }
  }

  /** Column `j` of every sample, in order, as `samples({ columns: [j] })`
   * gives it and with the same checks, but a raw shard not in memory is not
   * decoded (readShardColumn): picking rows by id must stay cheap. With validateHashes (the whole file is hashed anyway) and
   * for compressed shards, the shard is loaded as usual. */
  *column(j: number): Generator<{ index: number; value: MdsValue }> {
    if (!Number.isInteger(j) || j < 0 || j >= this.columns.length) throw new RangeError(`column ${j} is outside 0..${this.columns.length - 1}`);
    const scratch = { buf: Buffer.alloc(0) };
    for (const entry of this.index.shards) {
      const rawFile = shardPath(this.index.root, entry.info.raw_data.basename, this.index.file, entry.index);
      if (this.cache.has(entry.index) || this.opts.validateHashes || !fs.existsSync(rawFile)) {
        const s = this.shard(entry);
        for (let local = 0; local < entry.info.samples; local++) yield { index: entry.first + local, value: this.decodeAt(s, local, this.recordViews(s, local), j) };
        continue;
      }
      const s = { entry, file: rawFile };
      const views: Uint8Array[] = [];
      for (const { local, bytes } of readShardColumn(entry, rawFile, j, scratch)) {
        views[j] = bytes;
        yield { index: entry.first + local, value: this.decodeAt(s, local, views, j) };
      }
    }
  }

  /** Decodes the given columns (default: all) of sample `i`. */
  get(i: number, columns?: readonly number[]): Record<string, MdsValue> {
    const { entry, local } = this.locate(i);
    return this.decodeRecord(this.shard(entry), local, columns);
  }

  private decodeRecord(s: LoadedShard, local: number, columns?: readonly number[]): Record<string, MdsValue> {
    const views = this.recordViews(s, local);
    const out: Record<string, MdsValue> = {};
    const cols = columns ?? this.columns.map((_c, j) => j);
    for (const j of cols) out[this.columns[j]!.name] = this.decodeAt(s, local, views, j);
    return out;
  }

  /** Streams samples in order, shard by shard. */
  *samples(opts: { columns?: readonly number[]; start?: number; end?: number } = {}): Generator<{ index: number; values: Record<string, MdsValue> }> {
    const start = opts.start ?? 0;
    const end = Math.min(opts.end ?? this.length, this.length);
    for (const entry of this.index.shards) {
      const last = entry.first + entry.info.samples;
      if (last <= start || entry.first >= end) continue;
      const s = this.shard(entry);
      for (let i = Math.max(start, entry.first); i < Math.min(end, last); i++) yield { index: i, values: this.decodeRecord(s, i - entry.first, opts.columns) };
    }
  }

  /** Reads and checks every shard (sizes, hashes when enabled, offsets). */
  checkShards(): void {
    for (const entry of this.index.shards) this.shard(entry);
  }
}
