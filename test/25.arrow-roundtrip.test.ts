import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { lz4FrameDecode, lz4FrameEncode, type Lz4Blocks } from '../src/util/lz4';
import { requireNative } from '../src/native/loader';
import { TextStore, naturalIdOfDigest, textDigest } from '../src/store/texts';

/** The definition of a text's natural id: the first 31 bits of its sha256. */
const naturalTextId = (digest: Buffer): number => digest.readUInt32BE(0) >>> 1;
import { createHash } from 'node:crypto';
import { tmpDir } from './helpers/cli';
import { openDb, tableColumns, type DB } from '../src/store/db';
import { RUN_TABLES, runTableLayouts } from '../src/store/arrow-schema';
import { openRunWriter } from '../src/store/run-writer';
import { readRunDir } from '../src/store/run-reader';
import { loadRuns } from '../src/store/bulk-load';
import { syntheticRecord } from './support/synthetic-records';
import type { ExperimentRow, SampleRecord } from '../src/store/rows';
import { TceError } from '../src/util/errors';

const EXP: ExperimentRow = { experiment_id: 'tc_roundtrip_2b_20260101_000000', condition_name: 'all_tools', pipeline: 'B', config_hash: 'h1', status: 'running', seed: 42 };

/** A row seen as what it might be at run time (rows can come from files). */
const loose = (row: object): Record<string, unknown> => row as Record<string, unknown>;

function records(): SampleRecord[] {
  const recs = Array.from({ length: 40 }, (_, i) => syntheticRecord(i));
  // Edge cases the generator does not make: every cell NULL, a 2 MB text,
  // astral and combining characters, an empty blob.
  const empty = syntheticRecord(1000);
  for (const k of Object.keys(empty.prediction)) if (k !== 'sample_id') loose(empty.prediction)[k] = null;
  recs.push(empty);
  const big = syntheticRecord(1001);
  big.prediction.final_generated_text = 'e\u0301\ud834\udd1e\u0000'.repeat(400_000);
  big.turns[0]!.chunk_times = new Uint8Array(0);
  big.turns[0]!.response_text = '\u{1F600}'.repeat(10_000);
  recs.push(big);
  return recs;
}

function insertDirect(db: DB, recs: SampleRecord[]): void {
  db.prepare('INSERT INTO experiments (experiment_id, condition_name, pipeline, config_hash, status, seed) VALUES (?, ?, ?, ?, ?, ?)').run('tc_roundtrip_2b_20260101_000000', 'all_tools', 'B', 'h1', 'completed', 42);
  const put = (table: string, row: Record<string, unknown>, sid: number) => {
    const r = { ...row, experiment_id: EXP['experiment_id'], sample_id: sid };
    const cols = Object.keys(r);
    db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...cols.map((c) => r[c as keyof typeof r]));
  };
  for (const rec of recs) {
    const sid = rec.prediction['sample_id'] as number;
    put('predictions', rec.prediction, sid);
    for (const t of rec.turns) put('turns', t, sid);
    for (const c of rec.toolCalls) put('tool_calls', c, sid);
  }
}

/** Every column through the table's _full view: long texts the bulk load
 * stored once in `texts` read back as the text itself. */
function dump(db: DB, table: string): unknown[] {
  const view = `${table}_full`;
  const cols = tableColumns(db, view).map((c) => c.name).filter((c) => c !== 'id' && c !== 'created_at');
  const order = table === 'predictions' ? 'sample_id' : table === 'turns' ? 'sample_id, turn_index' : 'sample_id, tool_call_order';
  // typeof() too: the storage class must match, not just the JS value.
  return db.prepare(`SELECT ${cols.map((c) => `${c}, typeof(${c})`).join(', ')} FROM ${view} ORDER BY ${order}`).raw().all();
}

test('rows → Arrow → SQLite equal direct inserts, every column and storage class', async () => {
  const dir = tmpDir();
  const recs = records();
  const w = openRunWriter(path.join(dir, 'runs'), EXP, { flushRows: 7 });
  for (const r of recs) w.append(r);
  await w.finish({ ...EXP, status: 'completed' });

  const viaArrow = openDb(path.join(dir, 'arrow.db'));
  const r = loadRuns(viaArrow, [w.dir]);
  assert.equal(r.predictions, recs.length);
  assert.equal(r.turns, recs.reduce((s, x) => s + x.turns.length, 0));
  assert.equal(r.toolCalls, recs.reduce((s, x) => s + x.toolCalls.length, 0));
  const direct = openDb(path.join(dir, 'direct.db'));
  insertDirect(direct, recs);
  for (const t of ['experiments', ...RUN_TABLES]) {
    if (t === 'experiments') {
      const q = 'SELECT experiment_id, condition_name, pipeline, config_hash, status, seed, typeof(seed) FROM experiments';
      assert.deepEqual(viaArrow.prepare(q).raw().all(), direct.prepare(q).raw().all());
      continue;
    }
    const a = dump(viaArrow, t);
    assert.ok(a.length > 0, t);
    assert.deepEqual(a, dump(direct, t), t);
  }
  // Lone surrogates (possible in model output decoded from JSON escapes)
  // become U+FFFD, valid UTF-8; better-sqlite3's own binding would store
  // invalid UTF-8 bytes (ED A0 80) instead.
  const odd = syntheticRecord(2000);
  odd.prediction['final_scene'] = 'x\ud800y';
  const w2 = openRunWriter(path.join(dir, 'runs2'), EXP);
  w2.append(odd);
  await w2.finish(EXP);
  loadRuns(viaArrow, [w2.dir]);
  assert.deepEqual(viaArrow.prepare('SELECT final_scene AS s, hex(final_scene) AS h FROM predictions WHERE sample_id = 2000').get(), { s: 'x\ufffdy', h: '78EFBFBD79' });
  const sid = viaArrow.prepare(`SELECT typeof(sample_id) AS t, max(sample_id) AS m FROM predictions`).get() as { t: string; m: number };
  assert.deepEqual(sid, { t: 'integer', m: 2000 });
  // The long texts went to `texts`, once each.
  const interned = viaArrow.prepare('SELECT count(*) AS rows, count(DISTINCT tool_result_json_text_id) AS ids FROM tool_calls WHERE tool_result_json_text_id IS NOT NULL').get() as { rows: number; ids: number };
  assert.ok(interned.rows > 0 && interned.ids <= interned.rows);
  const texts = viaArrow.prepare('SELECT count(*) AS n, count(DISTINCT text) AS d FROM texts').get() as { n: number; d: number };
  assert.equal(texts.n, texts.d);
  viaArrow.close();
  direct.close();
});

test('readRunDir returns every committed row column-wise with NULLs, and the files are plain Arrow', async () => {
  const dir = tmpDir();
  const recs = records();
  const w = openRunWriter(dir, EXP, { flushRows: 1000 });
  for (const r of recs) w.append(r);
  await w.flush();
  const run = readRunDir(w.dir);
  assert.equal(run.experiment['config_hash'], 'h1');
  assert.equal(run.tables.predictions.length, recs.length);
  const p = run.tables.predictions.columns;
  const last = recs.length - 1;
  assert.equal(p['final_generated_text']![last], recs[last]!.prediction['final_generated_text']);
  assert.equal(p['chum_uri']![last - 1], null);
  assert.equal(p['experiment_id']![0], EXP['experiment_id']);
  assert.deepEqual([...Array.from({ length: recs.length }, (_, i) => p['sample_id']![i])], recs.map((r) => r.prediction['sample_id']));
  const turns = run.tables.turns;
  const chunk = turns.columns['chunk_times']!;
  assert.ok(Array.from({ length: turns.length }, (_, i) => chunk[i]).some((c) => c instanceof Uint8Array && c.length > 0));
  // Any Arrow reader sees typed columns with the SQLite type in the metadata.
  const file = fs.readdirSync(w.dir).find((f) => f.endsWith('.predictions.arrow'))!;
  const t = tableFromIPC(fs.readFileSync(path.join(w.dir, file)));
  assert.equal(t.numRows, recs.length);
  assert.equal(String(t.schema.fields.find((f) => f.name === 'sample_id')!.type), 'Float64');
  assert.equal(t.schema.fields.find((f) => f.name === 'sample_id')!.metadata.get('sqlite_type'), 'integer');
  assert.deepEqual(t.schema.fields.map((f) => f.name), runTableLayouts().predictions.columns.map((c) => c.name));
  await w.finish(EXP);
});

test('bad rows are refused naming the sample, table and column', async () => {
  const w = openRunWriter(tmpDir(), EXP);
  const cases: Array<[(r: SampleRecord) => void, RegExp]> = [
    [(r) => { loose(r.prediction)['no_such_column'] = 1; }, /sample 2 predictions row 0: predictions has no column 'no_such_column'/],
    [(r) => { loose(r.prediction)['final_scene'] = 5; }, /sample 2 predictions row 0: column final_scene: expected text or null, got number 5/],
    [(r) => { loose(r.turns[0]!)['retries'] = 1.5; }, /sample 2 turns row 0: column retries: expected an integer/],
    [(r) => { loose(r.turns[1]!)['sample_id'] = 4; }, /sample 2 turns row 1: column sample_id: expected 2/],
    [(r) => { loose(r.toolCalls[0]!)['experiment_id'] = 'other'; }, /sample 2 tool_calls row 0: column experiment_id/],
    [(r) => { loose(r.turns[0]!)['chunk_times'] = 'text'; }, /column chunk_times: expected bytes/],
    [(r) => { loose(r.toolCalls[1]!)['tool_name'] = null; }, /sample 2 tool_calls row 1: column tool_name: expected a value \(the column is NOT NULL\), got null/],
  ];
  for (const [spoil, re] of cases) {
    const w2 = openRunWriter(tmpDir(), EXP);
    const r = syntheticRecord(2);
    spoil(r);
    w2.append(r);
    await assert.rejects(w2.flush(), (e: unknown) => e instanceof TceError && re.test(e.message));
    // a failed writer stays failed: nothing half-written counts as done
    assert.throws(() => w2.append(syntheticRecord(5)), re);
    assert.equal(w2.doneSampleIds().size, 0);
  }
  assert.throws(() => w.append({ prediction: { sample_id: 'x' }, turns: [], toolCalls: [] } as unknown as SampleRecord), /predictions.sample_id: expected an integer/);
  assert.throws(() => openRunWriter(tmpDir(), { ...EXP, experiment_id: '../escape' }), /not usable as a directory name/);
});

const addon = requireNative();
/** The addon's block codec (what the run writer and the bulk load use) and the TypeScript one (null). */
const NATIVE_BLOCKS: Lz4Blocks = { encode: addon.lz4EncodeBlock, decode: addon.lz4DecodeBlock };
const CODECS: Array<[string, Lz4Blocks | null]> = [['typescript', null], ['native', NATIVE_BLOCKS]];

function lz4Inputs(): Uint8Array[] {
  const rnd = new Uint8Array(300_000);
  let x = 1;
  for (let i = 0; i < rnd.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; rnd[i] = x >>> 24; }
  const text = Buffer.from('{"predicted_scene":"nominal","verdict":"plausible"} '.repeat(200_000)); // > 4 MiB: two blocks
  // Half compressible: a match every few bytes, literals between (long literal and match lengths too).
  const mixed = Buffer.concat(Array.from({ length: 3000 }, (_, i) => Buffer.concat([rnd.subarray(i * 17, i * 17 + (i % 300)), Buffer.from('x'.repeat(i % 400))])));
  return [new Uint8Array(0), Buffer.from('abc'), Buffer.from('abcdefghijklm'), Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), rnd, text, mixed];
}

test('LZ4 frames round-trip (empty, short, random, runs, several blocks) through either codec, with the same bytes, and the lz4 tool reads them', () => {
  const hasLz4 = spawnSync('lz4', ['--version']).status === 0;
  for (const data of lz4Inputs()) {
    const frame = lz4FrameEncode(data);
    for (const [name, codec] of CODECS) {
      assert.ok(Buffer.from(lz4FrameEncode(data, codec)).equals(Buffer.from(frame)), `${name}: the same frame for ${data.length} bytes`);
      assert.ok(Buffer.from(lz4FrameDecode(frame, codec)).equals(Buffer.from(data)), `${name}: decodes ${data.length} bytes`);
    }
    if (hasLz4) {
      const r = spawnSync('lz4', ['-d', '-c'], { input: frame, maxBuffer: 1 << 28 });
      assert.equal(r.status, 0, String(r.stderr));
      assert.ok(Buffer.compare(r.stdout, Buffer.from(data)) === 0, `lz4 -d of a ${data.length}-byte frame`);
    }
  }
  const [, , , , rnd, text] = lz4Inputs();
  assert.ok(lz4FrameEncode(text!).length < text!.length / 20);
  assert.ok(lz4FrameEncode(rnd!).length < rnd!.length + 64, 'incompressible data stored raw');
});

/** The frame with its content size left out (other writers may): the decoder grows its output. */
function withoutContentSize(frame: Uint8Array): Uint8Array {
  const out = Buffer.concat([frame.subarray(0, 6), frame.subarray(14)]);
  out[4] = frame[4]! & ~0x08;
  return out;
}

test('the native LZ4 decoder: a frame without its content size grows the output; a damaged block is an error, never a read or write outside', () => {
  const text = Buffer.from('{"scene":"incident_zone","verdict":"implausible"} '.repeat(5000));
  const frame = lz4FrameEncode(text);
  for (const [name, codec] of CODECS) assert.ok(Buffer.from(lz4FrameDecode(withoutContentSize(frame), codec)).equals(text), name);
  // The first block: [size:4][token ...]; its size field is at 15.
  const size = Buffer.from(frame).readUInt32LE(15);
  const block = frame.subarray(19, 19 + size);
  const out = new Uint8Array(text.length);
  assert.equal(addon.lz4DecodeBlock(block, 0, block.length, out, 0), text.length);
  assert.equal(addon.lz4DecodeBlock(block, 0, block.length, new Uint8Array(100), 0), -1, 'no room: -1, to be retried larger');
  assert.throws(() => addon.lz4DecodeBlock(block, 0, 3, out, 0), /lz4: (match offset|literals|match length)/, 'a block cut short');
  const farMatch = Buffer.from([0x10, 0x61, 0x05, 0x00]); // one literal, then a match 5 bytes back
  assert.throws(() => addon.lz4DecodeBlock(farMatch, 0, farMatch.length, out, 0), /match offset out of range/);
  assert.throws(() => addon.lz4DecodeBlock(block, 0, block.length + 1, out, 0), RangeError);
  assert.throws(() => addon.lz4EncodeBlock(text, 0, 10, out, 5, out.length + 1), RangeError);
  assert.throws(() => addon.lz4DecodeBlock(block, 0, block.length, [] as unknown as Uint8Array, 0), TypeError);
  assert.throws(() => (addon.lz4EncodeBlock as (...a: unknown[]) => number)(text, 0, 10, out, 0), TypeError);
  assert.equal(addon.lz4EncodeBlock(text, 0, text.length, out, 0, 10), -1, 'does not fit: -1');
  assert.throws(() => lz4FrameDecode(frame.subarray(0, 40), NATIVE_BLOCKS), /runs past the frame/);
  // Every one-byte change of a small frame's blocks: the native decoder returns or throws an
  // lz4 error; a read or write outside its arrays would take this process down instead.
  const small = lz4FrameEncode(Buffer.from('abcabcabcabcabcabc-xyzxyzxyzxyz-abcabc'.repeat(3)));
  for (let i = 15; i < small.length; i++) {
    for (const v of [0x00, 0x0f, 0xf0, 0xff]) {
      const bad = Buffer.from(small);
      bad[i] = v;
      let got: Uint8Array | null = null;
      try { got = lz4FrameDecode(bad, NATIVE_BLOCKS); } catch (e) { assert.match((e as Error).message, /lz4|range/i); }
      if (got) assert.ok(got.length <= 1 << 20);
    }
  }
});

test('an LZ4 frame does not depend on the frames encoded before it (the match table is reused), in either codec', () => {
  // Each text shares words with the next, so a stale table entry would
  // point into bytes that look like a match.
  const texts = Array.from({ length: 40 }, (_, i) => Buffer.from(`{"sample":${i},"scene":"nominal","verdict":"plausible"} `.repeat(1 + (i % 7) * 9)));
  for (const [name, codec] of CODECS) {
    const first = texts.map((t) => Buffer.from(lz4FrameEncode(t, codec)));
    const again = [...texts].reverse().map((t) => Buffer.from(lz4FrameEncode(t, codec))).reverse();
    for (let i = 0; i < texts.length; i++) {
      assert.ok(first[i]!.equals(again[i]!), `${name} frame ${i}: same bytes in either order`);
      assert.ok(Buffer.from(lz4FrameDecode(first[i]!, codec)).equals(texts[i]!));
    }
  }
});

test('record batches are written LZ4_FRAME-compressed', async () => {
  const dir = tmpDir();
  const w = openRunWriter(dir, EXP, { flushRows: 1000 });
  const recs = Array.from({ length: 200 }, (_, i) => syntheticRecord(i));
  for (const r of recs) w.append(r);
  await w.finish(EXP);
  const file = path.join(w.dir, fs.readdirSync(w.dir).find((f) => f.endsWith('.predictions.arrow'))!);
  const bytes = fs.readFileSync(file);
  const t = tableFromIPC(bytes);
  assert.equal(t.numRows, 200);
  const plain = tableToIPC(t, 'file');
  assert.ok(bytes.length < plain.length / 2, `${bytes.length} bytes compressed vs ${plain.length} plain`);
});

test('texts: one row per distinct text; a text whose id another holds takes the next free one', () => {
  const db = openDb(':memory:');
  const a = 'a tool result long enough to be stored once';
  const taken = naturalTextId(createHash('sha256').update(a).digest());
  db.prepare('INSERT INTO texts (id, text) VALUES (?, ?)').run(taken, 'another text under the same id');
  const store = new TextStore(db);
  const [inline, id] = store.split(a);
  assert.equal(inline, null);
  assert.equal(id, taken + 1);
  assert.deepEqual(store.split(Buffer.from(a)), [null, taken + 1], 'the same text as UTF-8 bytes');
  assert.deepEqual(store.split('short'), ['short', null]);
  assert.equal(db.prepare('SELECT text FROM texts WHERE id = ?').pluck().get(taken + 1), a);
  assert.equal((db.prepare('SELECT count(*) FROM texts').pluck().get() as number), 2);
  db.close();
  // The id read from the base64 digest is the one from the digest's bytes.
  for (let i = 0; i < 2000; i++) {
    const text = `text ${i} ${'x'.repeat(i % 50)}`;
    assert.equal(naturalIdOfDigest(textDigest(text)), naturalTextId(createHash('sha256').update(text).digest()), text);
  }
});
