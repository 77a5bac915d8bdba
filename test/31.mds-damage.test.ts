import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';
import { throwsTce } from './3-data-helpers';
import { MdsWriter } from '../src/data/mds/writer';
import { MdsReader } from '../src/data/mds/reader';

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
