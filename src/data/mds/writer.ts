// Writes MDS datasets in exactly the layout of mosaicml/streaming's
// MDSWriter (index.json keys and formatting, shard header, offsets, record
// layout, shard splitting rule), so the reference library can read them.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { TceError } from '../../util/errors';
import { codecFor, MdsValueError, type Codec } from './encodings';
import { compressShard, codecName } from './compression';
import { pyJsonDumps, type JsonValue } from './python-json';

export interface MdsWriterOptions {
  /** Column name -> encoding string (e.g. "str", "png", "ndarray:float32:10,2"). */
  columns: Record<string, string>;
  /** null (raw shards), or "zstd" | "gz" | "br" with an optional ":level". */
  compression?: string | null;
  /** Hash algorithms recorded for every shard file (node:crypto names: sha1, sha256, md5, ...). */
  hashes?: string[];
  /** Bytes per raw shard before a new one starts (reference default 64 MiB). */
  sizeLimit?: number;
}

interface FileEntry { basename: string; bytes: number; hashes: Record<string, string> }

export class MdsWriter {
  private readonly dir: string;
  private readonly names: string[];
  private readonly codecs: Codec[];
  private readonly config: Record<string, JsonValue>;
  private readonly configBytes: Uint8Array;
  private readonly compression: string | null;
  private readonly hashes: string[];
  private readonly sizeLimit: number;
  private records: Uint8Array[] = [];
  private shardSize: number;
  private readonly shards: JsonValue[] = [];
  private finished = false;
  private written = 0;

  constructor(dir: string, opts: MdsWriterOptions) {
    this.dir = dir;
    // The reference writer orders columns by Python code-point order.
    this.names = Object.keys(opts.columns).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (this.names.length === 0) throw new TypeError('MdsWriter: columns must name at least one column');
    this.codecs = this.names.map((n) => {
      try {
        return codecFor(opts.columns[n]!);
      } catch (e) {
        throw new TypeError(`MdsWriter: column '${n}': ${(e as Error).message}`);
      }
    });
    this.compression = opts.compression ?? null;
    if (this.compression) compressShard(this.compression, new Uint8Array(0));
    this.hashes = [...(opts.hashes ?? [])].sort();
    for (const h of this.hashes) createHash(h);
    this.sizeLimit = opts.sizeLimit ?? 1 << 26;
    if (!Number.isInteger(this.sizeLimit) || this.sizeLimit <= 0 || this.sizeLimit >= 2 ** 32) throw new TypeError('MdsWriter: sizeLimit must be an integer in 1..2^32-1');
    this.config = {
      version: 2, format: 'mds', compression: this.compression, hashes: this.hashes, size_limit: this.sizeLimit,
      column_names: this.names, column_encodings: this.names.map((n) => opts.columns[n]!), column_sizes: this.codecs.map((c) => c.size),
    };
    this.configBytes = new TextEncoder().encode(pyJsonDumps(this.config, { sortKeys: true }));
    this.shardSize = 8 + this.configBytes.length;
    fs.mkdirSync(dir, { recursive: true });
    if (fs.readdirSync(dir).length > 0) throw new TceError('MDS_WRITE', `${dir}: not empty; the MDS writer needs an empty folder`, 'pick a new folder or remove this one');
  }

  /** Encodes one sample: sizes of the variable columns, then every column. */
  private encodeSample(sample: Record<string, unknown>, row: number): Uint8Array {
    const parts = this.names.map((n, j) => {
      if (!(n in sample)) throw new TceError('MDS_WRITE', `sample ${row}: column '${n}' is missing`, 'every sample must have every column');
      try {
        const b = this.codecs[j]!.encode(sample[n]);
        const fixed = this.codecs[j]!.size;
        if (fixed !== null && b.length !== fixed) throw new MdsValueError(`encodes to ${b.length} bytes, the column is fixed at ${fixed}`);
        return b;
      } catch (e) {
        if (e instanceof MdsValueError) throw new TceError('MDS_WRITE', `sample ${row}, column '${n}' (${this.codecs[j]!.encoding}): ${e.message}`);
        throw e;
      }
    });
    const variable = this.codecs.filter((c) => c.size === null).length;
    const out = new Uint8Array(4 * variable + parts.reduce((a, p) => a + p.length, 0));
    const dv = new DataView(out.buffer);
    let h = 0;
    parts.forEach((p, j) => { if (this.codecs[j]!.size === null) { dv.setUint32(h, p.length, true); h += 4; } });
    let p = 4 * variable;
    for (const part of parts) { out.set(part, p); p += part.length; }
    return out;
  }

  write(sample: Record<string, unknown>): void {
    if (this.finished) throw new Error('MdsWriter: write() after finish()');
    const rec = this.encodeSample(sample, this.written++);
    if (this.records.length > 0 && this.sizeLimit < this.shardSize + rec.length + 4) this.flushShard();
    this.records.push(rec);
    this.shardSize += rec.length + 4;
  }

  private fileEntry(basename: string, data: Uint8Array): FileEntry {
    const hashes: Record<string, string> = {};
    for (const h of this.hashes) hashes[h] = createHash(h).update(data).digest('hex');
    return { basename, bytes: data.length, hashes };
  }

  private flushShard(): void {
    const n = this.records.length;
    const head = 4 + 4 * (n + 1) + this.configBytes.length;
    const raw = new Uint8Array(head + this.records.reduce((a, r) => a + r.length, 0));
    const dv = new DataView(raw.buffer);
    dv.setUint32(0, n, true);
    let off = head;
    this.records.forEach((r, i) => { dv.setUint32(4 + 4 * i, off, true); raw.set(r, off); off += r.length; });
    dv.setUint32(4 + 4 * n, off, true);
    raw.set(this.configBytes, 4 + 4 * (n + 1));
    const basename = `shard.${String(this.shards.length).padStart(5, '0')}.mds`;
    const rawEntry = this.fileEntry(basename, raw);
    let zipEntry: FileEntry | null = null;
    if (this.compression) {
      const zip = compressShard(this.compression, raw);
      zipEntry = this.fileEntry(`${basename}.${codecName(this.compression)}`, zip);
      fs.writeFileSync(path.join(this.dir, zipEntry.basename), zip);
    } else {
      fs.writeFileSync(path.join(this.dir, basename), raw);
    }
    this.shards.push({ ...this.config, samples: n, raw_data: { ...rawEntry }, zip_data: zipEntry ? { ...zipEntry } : null });
    this.records = [];
    this.shardSize = 8 + this.configBytes.length;
  }

  /** Flushes the last shard and writes index.json. Returns its path. */
  finish(): string {
    if (this.finished) throw new Error('MdsWriter: finish() called twice');
    if (this.records.length > 0) this.flushShard();
    this.finished = true;
    const file = path.join(this.dir, 'index.json');
    fs.writeFileSync(file, pyJsonDumps({ shards: this.shards, version: 2 }, { sortKeys: true }));
    return file;
  }
}
