import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';
import { throwsTce } from './3-data-helpers';
import { MdsWriter } from '../src/data/mds/writer';
import { MdsReader } from '../src/data/mds/reader';
import { readMdsSamples, type FieldMapping } from '../src/data/mds-source';
import { SAMPLE_FIELDS } from '../src/data/sample-fields';

/** A small two-shard dataset; each test damages its own copy. */
function dataset(opts: { compression?: string } = {}): string {
  const dir = path.join(tmpDir('tce-mds-damage-'), 'ds');
  const w = new MdsWriter(dir, { columns: { name: 'str', n: 'int', blob: 'bytes' }, sizeLimit: 400, hashes: ['sha1'], compression: opts.compression ?? null });
  for (let i = 0; i < 12; i++) w.write({ name: `sample-${i}`, n: i, blob: new Uint8Array(20).fill(i) });
  w.finish();
  return dir;
}

function index(dir: string): { shards: Array<Record<string, any>> } {
  return JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
}
function saveIndex(dir: string, ix: unknown): void {
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(ix));
}

/** Reads every sample and every column. */
function readAll(dir: string, validateHashes = false): void {
  const r = MdsReader.open(dir, { validateHashes });
  for (let i = 0; i < r.length; i++) r.get(i);
}


test('the undamaged dataset reads fully, hashes included', () => {
  const dir = dataset();
  assert.ok(index(dir).shards.length >= 2);
  readAll(dir, true);
});

test('a shard truncated by one byte fails naming that shard (API and tce inspect-dataset)', async () => {
  const dir = dataset();
  const file = path.join(dir, 'shard.00001.mds');
  fs.truncateSync(file, fs.statSync(file).size - 1);
  throwsTce(() => readAll(dir), 'MDS_SHARD_SIZE', /shard\.00001\.mds \(shard 1\)/, /truncated/);
  const r = await tce(['inspect-dataset', dir]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /shard\.00001\.mds \(shard 1\).*truncated/);
});

test('a missing shard is named, with its compressed form', () => {
  const dir = dataset();
  fs.rmSync(path.join(dir, 'shard.00000.mds'));
  throwsTce(() => MdsReader.open(dir).get(0), 'MDS_SHARD_MISSING', /shard\.00000\.mds \(shard 0\): missing/);
});

test('offsets out of range name the shard and the offset', () => {
  const dir = dataset();
  const file = path.join(dir, 'shard.00000.mds');
  const raw = fs.readFileSync(file);
  raw.writeUInt32LE(0xffffff, 8); // offsets[1]
  fs.writeFileSync(file, raw);
  throwsTce(() => readAll(dir), 'MDS_SHARD_CORRUPT', /shard\.00000\.mds \(shard 0\): offset 1 \(sample 1\) is 16777215/);
});

test('an unknown encoding fails at open naming index.json and the column', () => {
  const dir = dataset();
  const ix = index(dir);
  for (const s of ix.shards) s.column_encodings[1] = 'webp';
  saveIndex(dir, ix);
  throwsTce(() => MdsReader.open(dir), 'MDS_INDEX', /index\.json: shards\[0\] column 'n': unknown encoding 'webp'/);
});

test('column_sizes that disagree with the encoding are refused', () => {
  const dir = dataset();
  const ix = index(dir);
  ix.shards[0]!.column_sizes[1] = 4;
  saveIndex(dir, ix);
  throwsTce(() => MdsReader.open(dir), 'MDS_INDEX', /column 'n': column_sizes says 4 but encoding 'int' has 8 bytes/);
});

test('a record whose size header overruns it names file, shard, sample and column', () => {
  const dir = dataset();
  const file = path.join(dir, 'shard.00000.mds');
  const raw = fs.readFileSync(file);
  const rec1 = raw.readUInt32LE(8); // sample 1
  raw.writeUInt32LE(5000, rec1 + 4); // size of 'name' (columns sorted: blob, n, name; blob and name are variable)
  fs.writeFileSync(file, raw);
  throwsTce(() => MdsReader.open(dir).get(1), 'MDS_SAMPLE_CORRUPT', /shard\.00000\.mds \(shard 0\), sample 1, column 'name': size mismatch: 5000 bytes declared/);
  // Other samples of the same shard still read.
  assert.equal(MdsReader.open(dir).get(0)['name'], 'sample-0');
});

test('invalid UTF-8 in a str column names the sample and column', () => {
  const dir = dataset();
  const file = path.join(dir, 'shard.00000.mds');
  const raw = fs.readFileSync(file);
  const rec2 = raw.readUInt32LE(12); // sample 2
  const at = raw.indexOf('sample-2', rec2);
  raw[at] = 0xff;
  fs.writeFileSync(file, raw);
  throwsTce(() => MdsReader.open(dir).get(2), 'MDS_VALUE', /sample 2, column 'name' \(str\): invalid UTF-8/);
});

test('a hash mismatch is found when hash checks are on, not otherwise', () => {
  const dir = dataset();
  const file = path.join(dir, 'shard.00001.mds');
  const raw = fs.readFileSync(file);
  raw[raw.length - 1] = raw[raw.length - 1]! ^ 0x01; // inside the last blob: structure intact
  fs.writeFileSync(file, raw);
  readAll(dir, false);
  throwsTce(() => readAll(dir, true), 'MDS_HASH', /shard\.00001\.mds \(shard 1\): sha1 hash mismatch/);
});

test('compressed shards: an undecodable codec is named; corrupt data fails naming the shard', () => {
  const dir = dataset({ compression: 'gz' });
  readAll(dir);
  const ix = index(dir);
  ix.shards[0]!.compression = 'bz2';
  saveIndex(dir, ix);
  throwsTce(() => readAll(dir), 'MDS_CODEC', /shard\.00000\.mds\.gz \(shard 0\): compression 'bz2' cannot be decoded here/);
  const dir2 = dataset({ compression: 'zstd' });
  const zip = path.join(dir2, 'shard.00000.mds.zstd');
  const bytes = fs.readFileSync(zip);
  bytes[0] = 0; // break the magic number
  fs.writeFileSync(zip, bytes);
  throwsTce(() => readAll(dir2), 'MDS_SHARD_CORRUPT', /shard\.00000\.mds\.zstd \(shard 0\): cannot decompress zstd/);
});

test('index.json problems: not JSON, wrong version, extra keys, basenames leaving the folder', () => {
  const dir = dataset();
  const good = fs.readFileSync(path.join(dir, 'index.json'), 'utf8');
  fs.writeFileSync(path.join(dir, 'index.json'), good.slice(0, 50));
  throwsTce(() => MdsReader.open(dir), 'MDS_INDEX', /index\.json: not valid JSON/);
  const ix = JSON.parse(good);
  saveIndex(dir, { ...ix, version: 3 });
  throwsTce(() => MdsReader.open(dir), 'MDS_INDEX', /index\.json: version/);
  ix.shards[1].extra = 1;
  saveIndex(dir, ix);
  throwsTce(() => MdsReader.open(dir), 'MDS_INDEX', /shards\[1\]/);
  delete ix.shards[1].extra;
  ix.shards[1].raw_data.basename = '../elsewhere.mds';
  saveIndex(dir, ix);
  throwsTce(() => readAll(dir), 'MDS_INDEX', /points outside the dataset folder/);
  throwsTce(() => MdsReader.open(path.join(dir, 'nope')), 'MDS_NOT_FOUND', /index\.json: cannot read/);
});

/** Column `j` read alone (MdsReader.column, the --limit path) and through a
 * full read of that column: the values, or the error, of each. */
function bothColumnReads(dir: string, j: number, validateHashes = false): Array<{ values?: unknown[]; error?: string }> {
  const attempt = (read: () => unknown[]) => {
    try {
      return { values: read() };
    } catch (e) {
      return { error: `${(e as { code?: string }).code}: ${(e as Error).message}` };
    }
  };
  return [
    attempt(() => [...MdsReader.open(dir, { validateHashes }).column(j)].map((x) => [x.index, x.value])),
    attempt(() => [...MdsReader.open(dir, { validateHashes }).samples({ columns: [j] })].map((x) => [x.index, Object.values(x.values)[0]])),
  ];
}

test('one column read alone gives a full read\'s values, and fails on the same damage with the same error', () => {
  const name = 2; // columns sorted: blob, n, name
  for (const [label, dir, hashes] of [['raw', dataset(), false], ['raw, hashes checked', dataset(), true], ['gz', dataset({ compression: 'gz' }), false]] as const) {
    for (const j of [0, 1, 2]) {
      const [alone, full] = bothColumnReads(dir, j, hashes);
      assert.equal(alone!.error, undefined, label);
      assert.deepEqual(alone, full, `${label}, column ${j}`);
      assert.equal(alone!.values!.length, 12);
    }
  }
  const damages: Array<[string, (raw: Buffer) => Buffer, RegExp]> = [
    ['truncated', (raw) => raw.subarray(0, raw.length - 1), /^MDS_SHARD_SIZE: .*shard\.00000\.mds \(shard 0\).*truncated/],
    ['offset out of range', (raw) => { raw.writeUInt32LE(0xffffff, 8); return raw; }, /^MDS_SHARD_CORRUPT: .*offset 1 \(sample 1\) is 16777215/],
    ['size header overrun', (raw) => { raw.writeUInt32LE(5000, raw.readUInt32LE(8) + 4); return raw; }, /^MDS_SAMPLE_CORRUPT: .*sample 1, column 'name': size mismatch: 5000 bytes declared/],
    ['sizes short of the record', (raw) => { const at = raw.readUInt32LE(8) + 4; raw.writeUInt32LE(raw.readUInt32LE(at) - 1, at); return raw; }, /^MDS_SAMPLE_CORRUPT: .*sample 1: size mismatch: columns add up to/],
    ['invalid UTF-8', (raw) => { raw[raw.indexOf('sample-2', raw.readUInt32LE(12))] = 0xff; return raw; }, /^MDS_VALUE: .*sample 2, column 'name' \(str\): invalid UTF-8/],
  ];
  for (const [label, damage, want] of damages) {
    const dir = dataset();
    const file = path.join(dir, 'shard.00000.mds');
    fs.writeFileSync(file, damage(fs.readFileSync(file)));
    const [alone, full] = bothColumnReads(dir, name);
    assert.match(alone!.error ?? 'no error', want, label);
    assert.deepEqual(alone, full, label);
  }
});

test('a --limit pick reads the id column once per process for the same files, and again when a shard is replaced or changed', () => {
  const dir = dataset();
  const mapping = Object.fromEntries(SAMPLE_FIELDS.map((f) => [f, f === 'sample_id' ? 'n' : ''])) as FieldMapping;
  const offered = () => {
    let seen: readonly number[] = [];
    const got = readMdsSamples(dir, mapping, {}, (ids) => { seen = ids; return new Set([ids[3]!]); });
    return { seen: [...seen], got: got.map((s) => s.sampleId) };
  };
  const ids = Array.from({ length: 12 }, (_v, i) => i);
  assert.deepEqual(offered(), { seen: ids, got: [3] });
  // Replaced (a new file, as writers do): sample 0's id becomes 100.
  const file = path.join(dir, 'shard.00000.mds');
  const raw = fs.readFileSync(file);
  const rec0 = raw.readUInt32LE(4);
  const idAt = rec0 + 8 + 20; // size header (blob, name), then blob (20 bytes), then n
  assert.equal(raw.readBigInt64LE(idAt), 0n);
  raw.writeBigInt64LE(100n, idAt);
  fs.writeFileSync(`${file}.new`, raw);
  fs.renameSync(`${file}.new`, file);
  assert.deepEqual(offered().seen, [100, ...ids.slice(1)]);
  // Changed in place (same inode and size, new mtime): a repeat now fails as a full read does.
  raw.writeBigInt64LE(1n, idAt);
  fs.writeFileSync(file, raw);
  fs.utimesSync(file, new Date(Date.now() + 5000), new Date(Date.now() + 5000));
  throwsTce(offered, 'DATA_ROW', /sample 1, field 'sample_id': 1 repeats sample 0/);
  throwsTce(() => readMdsSamples(dir, mapping), 'DATA_ROW', /sample 1, field 'sample_id': 1 repeats sample 0/);
});
