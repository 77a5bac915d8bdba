// Reading the 8,613-sample fixture (images included) with the MDS reader,
// against a naive reader that opens and decodes the whole shard for every
// sample it is asked for. Both decode every column of the sample returned.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measure, type BenchModule } from './harness';
import { fixtureIsComplete, synthesizeFixture, FIXTURE_MDS_DIR, FIXTURE_MAPPING } from '../src/data/fixture/synth';
import { MdsReader } from '../src/data/mds/reader';
import { readMdsIndex, type ShardEntry } from '../src/data/mds/index-file';
import { readMdsSamples } from '../src/data/mds-source';
import type { MdsValue } from '../src/data/mds/encodings';

/** The naive contender: no cache, no views kept; the whole shard is read
 * and every one of its samples decoded to answer one index. */
function naiveGet(root: string, shards: ShardEntry[], i: number): Record<string, MdsValue> {
  const entry = shards.find((s) => i >= s.first && i < s.first + s.info.samples)!;
  const buf = fs.readFileSync(path.join(root, entry.info.raw_data.basename));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getUint32(0, true);
  const decoded: Array<Record<string, MdsValue>> = [];
  for (let k = 0; k < n; k++) {
    const begin = dv.getUint32(4 + 4 * k, true);
    let p = begin;
    const sizes = entry.info.column_sizes.map((s) => (s ? s : ((p += 4), dv.getUint32(p - 4, true))));
    const rec: Record<string, MdsValue> = {};
    entry.codecs.forEach((c, j) => {
      rec[entry.info.column_names[j]!] = c.decode(Uint8Array.prototype.slice.call(buf, p, p + sizes[j]!));
      p += sizes[j]!;
    });
    decoded.push(rec);
  }
  return decoded[i - entry.first]!;
}

export const bench: BenchModule = {
  name: 'mds',
  async run() {
    const dir = path.join(os.tmpdir(), 'tce-bench-fixture-42');
    if (!fixtureIsComplete(dir, 42)) await synthesizeFixture({ outDir: dir, seed: 42 });
    const root = path.join(dir, FIXTURE_MDS_DIR);
    const index = readMdsIndex(root);
    const total = index.total;
    const bytes = index.shards.reduce((a, s) => a + s.info.raw_data.bytes, 0);
    const mb = bytes / 1e6;

    const stream = await measure(() => {
      const r = MdsReader.open(root);
      let n = 0;
      for (const { values } of r.samples()) if (values['image']) n++;
      if (n !== total) throw new Error('short read');
    }, total, { trials: 5 });

    const order = Array.from({ length: total }, (_v, k) => (k * 7919) % total);
    const random = await measure(() => {
      const r = MdsReader.open(root);
      for (const i of order) r.get(i);
    }, total, { trials: 5 });

    const samples = await measure(() => {
      if (readMdsSamples(root, FIXTURE_MAPPING).length !== total) throw new Error('short read');
    }, total, { trials: 3 });

    // The naive reader is quadratic per shard; time a spread-out subset.
    const subset = Array.from({ length: 40 }, (_v, k) => Math.floor((k * total) / 40));
    const naive = await measure(() => {
      for (const i of subset) naiveGet(root, index.shards, i);
    }, subset.length, { trials: 3 });

    const perSec = (ns: number) => 1e9 / ns;
    const mbPerSec = (ns: number) => (perSec(ns) * mb) / total;
    return [{
      bench: 'mds',
      scenario: `read all ${total} fixture samples with images (${mb.toFixed(1)} MB in ${index.shards.length} raw shards, page cache warm)`,
      better: 'higher',
      baseline: 'naive: whole shard decoded per sample',
      contenders: [
        { name: 'MdsReader streaming (views, every column decoded)', value: perSec(stream.wallNsPerOp), unit: 'samples/s', extra: { 'MB/s': mbPerSec(stream.wallNsPerOp).toFixed(0) } },
        { name: 'MdsReader random access (global index)', value: perSec(random.wallNsPerOp), unit: 'samples/s', extra: { 'MB/s': mbPerSec(random.wallNsPerOp).toFixed(0) } },
        { name: 'readMdsSamples (validated Sample objects)', value: perSec(samples.wallNsPerOp), unit: 'samples/s', extra: { 'MB/s': mbPerSec(samples.wallNsPerOp).toFixed(0) } },
        { name: 'naive: whole shard decoded per sample', value: perSec(naive.wallNsPerOp), unit: 'samples/s', extra: { 'MB/s': mbPerSec(naive.wallNsPerOp).toFixed(1) } },
      ],
      notes: 'MB/s = raw shard bytes / total samples × samples/s. The naive contender is timed on 40 samples spread over all shards.',
    }];
  },
};
