import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { tmpDir } from './helpers/cli';
import { MdsWriter } from '../src/data/mds/writer';
import { MdsReader } from '../src/data/mds/reader';
import { codecFor, type MdsValue } from '../src/data/mds/encodings';
import { parsePythonJson, pyJsonDumps } from '../src/data/mds/python-json';
import { valueToJson } from '../src/data/mds/value-view';

function pngBytes(w: number, h: number, seed: number): Uint8Array {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < p.data.length; i++) p.data[i] = (i * 31 + seed * 7) & 255;
  return PNG.sync.write(p);
}
function jpegBytes(w: number, h: number): Uint8Array {
  const data = Buffer.alloc(w * h * 4, 128);
  return jpeg.encode({ data, width: w, height: h }, 80).data;
}

// Every encoding of mds_format.md section 5, with values that exercise its edges.
const COLUMNS: Record<string, string> = {
  c_bytes: 'bytes', c_str: 'str', c_int: 'int', c_int8: 'int8', c_int16: 'int16', c_int32: 'int32', c_int64: 'int64',
  c_uint8: 'uint8', c_uint16: 'uint16', c_uint32: 'uint32', c_uint64: 'uint64', c_float16: 'float16', c_float32: 'float32', c_float64: 'float64',
  c_str_int: 'str_int', c_str_float: 'str_float', c_str_decimal: 'str_decimal', c_nd: 'ndarray', c_nd_dtype: 'ndarray:uint16', c_nd_fixed: 'ndarray:int16:2,3',
  c_json: 'json', c_pkl: 'pkl', c_jpeg: 'jpeg', c_png: 'png', c_pil: 'pil', c_list_pil: 'list[pil]', c_list_jpeg: 'list[jpeg]', c_list_png: 'list[png]', c_jpeg_array: 'jpeg_array',
};

// Encoded once: sampleValues runs for every sample written and checked, and
// jpeg-js builds its tables on every encode (it was most of this file's CPU
// and garbage). Each value is deterministic, so writer and checker still see
// the same bytes; the bytes are still different per sample for the PNGs.
const imageCache = new Map<string, Uint8Array>();
function cached(key: string, make: () => Uint8Array): Uint8Array {
  let v = imageCache.get(key);
  if (!v) imageCache.set(key, (v = make()));
  return v;
}

function sampleValues(i: number): Record<string, unknown> {
  const png = cached(`png${i}`, () => pngBytes(3 + i, 2, i));
  const jpg = cached('jpeg', () => jpegBytes(8, 8));
  return {
    c_bytes: new Uint8Array(i % 3 === 0 ? 0 : i).fill(i), c_str: i % 4 === 0 ? '' : `sample ${i} ünïcødé ✓`, c_int: -(2 ** 40) + i, c_int8: -128 + i, c_int16: -30000 + i, c_int32: -(2 ** 31) + i,
    c_int64: i === 1 ? -(2n ** 63n) : BigInt(i) * 1_000_000_007n, c_uint8: 255 - i, c_uint16: 65535 - i, c_uint32: 2 ** 32 - 1 - i, c_uint64: i === 2 ? 2n ** 64n - 1n : i,
    c_float16: [0.5, -2, 65504, 0.0999755859375, 2 ** -20][i % 5], c_float32: Math.fround(3.14159 * i), c_float64: i === 3 ? -Infinity : 1 / (i + 3),
    c_str_int: i === 0 ? 123456789012345678901234567890n : -i, c_str_float: i === 0 ? NaN : i === 1 ? Infinity : 2.5 * i, c_str_decimal: { kind: 'decimal', text: i % 2 ? '-0.000' : '3.14' },
    c_nd: { kind: 'ndarray', dtype: i % 2 ? 'float64' : 'uint8', shape: i % 2 ? [300] : [2, 3], data: i % 2 ? Array.from({ length: 300 }, (_v, k) => k / 7) : [0, 1, 2, 3, 4, 5] },
    c_nd_dtype: { kind: 'ndarray', dtype: 'uint16', shape: [i + 1], data: Array.from({ length: i + 1 }, (_v, k) => k * 1000) },
    c_nd_fixed: { kind: 'ndarray', dtype: 'int16', shape: [2, 3], data: [-1, 2, -3, 4, -5, i] },
    c_json: { kind: 'image', id: i, name: `n${i}`, list: [1, 2.5, null, true], nested: { é: 'ü' }, nan: NaN, inf: -Infinity },
    c_pkl: new Uint8Array([0x80, 0x04, 0x95, i, 0x2e]), c_jpeg: jpg, c_png: png,
    c_pil: { kind: 'pil', width: 2, height: 1, mode: 'RGB', pixels: new Uint8Array([1, 2, 3, 4, 5, i]) },
    c_list_pil: i % 2 ? [] : [{ kind: 'pil', width: 1, height: 1, mode: 'L', pixels: new Uint8Array([9]) }],
    c_list_jpeg: [jpg, jpg], c_list_png: [png], c_jpeg_array: [jpg],
  };
}

/** The value the reader should return for what the writer was given. */
function expected(col: string, v: unknown): unknown {
  const enc = COLUMNS[col]!;
  if (['bytes', 'pkl'].includes(enc)) return { kind: enc, bytes: v };
  if (enc === 'png' || enc === 'jpeg') return { kind: 'image', encoding: enc, bytes: v };
  if (enc === 'list[jpeg]' || enc === 'jpeg_array') return { kind: 'list', items: (v as Uint8Array[]).map((b) => ({ kind: 'image', encoding: 'jpeg', bytes: b })) };
  if (enc === 'list[png]') return { kind: 'list', items: (v as Uint8Array[]).map((b) => ({ kind: 'image', encoding: 'png', bytes: b })) };
  if (enc === 'list[pil]') return { kind: 'list', items: v };
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return v;
}

function norm(v: unknown): unknown {
  // Uint8Array subarrays of a shard compare by content.
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

function writeAll(dir: string, n: number, opts: { compression?: string | null; sizeLimit?: number; hashes?: string[] } = {}): void {
  const w = new MdsWriter(dir, { columns: COLUMNS, compression: opts.compression ?? null, sizeLimit: opts.sizeLimit ?? 1 << 26, hashes: opts.hashes ?? [] });
  for (let i = 0; i < n; i++) w.write(sampleValues(i));
  w.finish();
}

function checkAll(dir: string, n: number, validateHashes = false): void {
  const r = MdsReader.open(dir, { validateHashes });
  assert.equal(r.length, n);
  for (let i = 0; i < n; i++) {
    const got = r.get(i);
    const want = sampleValues(i);
    for (const col of Object.keys(COLUMNS)) assert.deepEqual(norm(got[col]), norm(expected(col, want[col])), `sample ${i} column ${col}`);
  }
  let k = 0;
  for (const { index } of r.samples()) assert.equal(index, k++);
  assert.equal(k, n);
}

test('writer -> reader round trip of every encoding, several shards, raw and compressed', () => {
  for (const compression of [null, 'gz:6', 'br:4', 'zstd']) {
    const dir = path.join(tmpDir(), 'ds');
    writeAll(dir, 7, { compression, sizeLimit: 2500, hashes: ['sha1', 'md5'] });
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
    assert.ok(index.shards.length > 1, `${compression}: size limit splits shards`);
    for (const s of index.shards) {
      assert.equal(s.compression, compression);
      assert.equal(fs.existsSync(path.join(dir, s.raw_data.basename)), compression === null, 'compressed datasets carry only the zip file');
      if (s.samples > 1) assert.ok(s.raw_data.bytes <= 2500, 'a multi-sample shard stays under size_limit');
    }
    checkAll(dir, 7, true);
  }
});

test('a shard compressed by the real zstd tool is read through fzstd', (t) => {
  if (spawnSync('zstd', ['--version']).status !== 0) return t.skip('zstd command not installed');
  const dir = path.join(tmpDir(), 'ds');
  writeAll(dir, 5);
  const indexFile = path.join(dir, 'index.json');
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  for (const s of index.shards) {
    const raw = path.join(dir, s.raw_data.basename);
    const r = spawnSync('zstd', ['-q', '-19', '-f', raw, '-o', `${raw}.zstd`]);
    assert.equal(r.status, 0, String(r.stderr));
    fs.rmSync(raw);
    s.compression = 'zstd:19';
    s.zip_data = { basename: `${s.raw_data.basename}.zstd`, bytes: fs.statSync(`${raw}.zstd`).size, hashes: {} };
  }
  fs.writeFileSync(indexFile, JSON.stringify(index));
  checkAll(dir, 5);
});

test('byte layout matches the reference writer: index.json, shard header, records, ndarray bytes', () => {
  const dir = path.join(tmpDir(), 'ds');
  const w = new MdsWriter(dir, { columns: { b_nd: 'ndarray', a_str: 'str', c_int: 'int' }, hashes: ['sha1'] });
  w.write({ a_str: 'hi', b_nd: { kind: 'ndarray', dtype: 'uint8', shape: [2, 3], data: [0, 1, 2, 3, 4, 5] }, c_int: 7 });
  w.finish();
  const indexText = fs.readFileSync(path.join(dir, 'index.json'), 'utf8');
  // json.dump(..., sort_keys=True): one line, ", " and ": " separators, sorted keys.
  assert.match(indexText, /^\{"shards": \[\{"column_encodings": \["str", "ndarray", "int"\], "column_names": \["a_str", "b_nd", "c_int"\], "column_sizes": \[null, null, 8\], "compression": null, "format": "mds", "hashes": \["sha1"\], "raw_data": \{"basename": "shard.00000.mds", "bytes": \d+, "hashes": \{"sha1": "[0-9a-f]{40}"\}\}, "samples": 1, "size_limit": 67108864, "version": 2, "zip_data": null\}\], "version": 2\}$/);
  const raw = fs.readFileSync(path.join(dir, 'shard.00000.mds'));
  const n = raw.readUInt32LE(0);
  const off0 = raw.readUInt32LE(4);
  const off1 = raw.readUInt32LE(8);
  assert.equal(n, 1);
  assert.equal(off1, raw.length);
  const config = raw.subarray(12, off0).toString('utf8');
  assert.equal(config, '{"column_encodings": ["str", "ndarray", "int"], "column_names": ["a_str", "b_nd", "c_int"], "column_sizes": [null, null, 8], "compression": null, "format": "mds", "hashes": ["sha1"], "size_limit": 67108864, "version": 2}');
  const rec = raw.subarray(off0);
  // Sizes of the two variable columns, then 'hi', the ndarray (mds_format.md's own example), int64 7.
  assert.deepEqual([...rec], [2, 0, 0, 0, 10, 0, 0, 0, 0x68, 0x69, 0x08, 0x08, 0x02, 0x03, 0, 1, 2, 3, 4, 5, 7, 0, 0, 0, 0, 0, 0, 0]);
  const wp = codecFor('ndarray').encode({ kind: 'ndarray', dtype: 'float32', shape: [12, 2], data: new Array(24).fill(0) });
  assert.deepEqual([...wp.subarray(0, 4)], [0x22, 0x08, 0x0c, 0x02]);
  const u16 = codecFor('ndarray').encode({ kind: 'ndarray', dtype: 'uint16', shape: [300], data: new Array(300).fill(1) });
  assert.deepEqual([...u16.subarray(0, 4)], [0x10, 0x05, 0x2c, 0x01]);
});

test('merged indexes with subfolder basenames are read relative to index.json', () => {
  const root = tmpDir();
  const parts = ['part0', 'part1'].map((p, k) => {
    writeAll(path.join(root, p), 3 + k);
    return JSON.parse(fs.readFileSync(path.join(root, p, 'index.json'), 'utf8')).shards as Array<{ raw_data: { basename: string } }>;
  });
  const shards = parts.flatMap((ss, k) => ss.map((s) => ({ ...s, raw_data: { ...s.raw_data, basename: `part${k}/${s.raw_data.basename}` } })));
  fs.writeFileSync(path.join(root, 'index.json'), JSON.stringify({ version: 2, shards }));
  const r = MdsReader.open(root);
  assert.equal(r.length, 7);
  assert.equal(r.get(3)['c_str'], '');
  assert.equal(r.get(4)['c_int'], -(2 ** 40) + 1);
});

test('Python JSON: NaN and Infinity tokens read and written; float formatting as repr', () => {
  assert.deepEqual(parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN in a string"}'), { a: NaN, b: [Infinity, -Infinity], c: 'NaN in a string' });
  assert.equal(pyJsonDumps({ b: [1, 0.5, 1e-7, 1e22, NaN], a: 'é"' }, { sortKeys: true }), '{"a": "\\u00e9\\"", "b": [1, 0.5, 1e-07, 1e+22, NaN]}');
});

test('pkl stays opaque bytes and every encoding name is known', () => {
  const v = codecFor('pkl').decode(new Uint8Array([0x80, 0x04, 0x2e])) as MdsValue;
  assert.deepEqual(norm(v), { kind: 'pkl', bytes: [0x80, 0x04, 0x2e] });
  assert.equal(codecFor('jpegarray').size, null);
  assert.equal(codecFor('ndarray:float32:10,2').size, 80);
  assert.throws(() => codecFor('webp'), /unknown encoding 'webp'/);
});

test('inspect JSON view: big ints as strings, images with size, bytes as len+sha256, json columns untouched', () => {
  const dir = path.join(tmpDir(), 'ds');
  writeAll(dir, 3);
  const r = MdsReader.open(dir);
  const v = r.get(1);
  const j = Object.fromEntries(r.columns.map((c) => [c.name, valueToJson(v[c.name]!, c.encoding)])) as Record<string, any>;
  assert.equal(j['c_int64'], '-9223372036854775808');
  assert.equal(j['c_uint64'], 1);
  assert.deepEqual(Object.keys(j['c_jpeg']).sort(), ['format', 'height', 'len', 'sha256', 'width']);
  assert.deepEqual([j['c_jpeg'].format, j['c_jpeg'].width, j['c_jpeg'].height], ['jpeg', 8, 8]);
  assert.deepEqual([j['c_png'].format, j['c_png'].width, j['c_png'].height], ['png', 4, 2]);
  assert.deepEqual(j['c_pil'], { len: 6, sha256: j['c_pil'].sha256, mode: 'RGB', width: 2, height: 1 });
  assert.equal(j['c_bytes'].len, 1);
  assert.match(j['c_pkl'].sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(j['c_nd_fixed'], { dtype: 'int16', shape: [2, 3], data: [-1, 2, -3, 4, -5, 1] });
  assert.equal(j['c_json'].kind, 'image');
  assert.equal(j['c_json'].id, 1);
  assert.equal(j['c_list_jpeg'].length, 2);
  assert.equal(j['c_str_decimal'], '-0.000');
  assert.equal(j['c_str_float'], Infinity);
});
