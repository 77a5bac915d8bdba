import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { errorFromWire, errorToWire } from '../src/util/thread-error';
import { ThreadCalls } from '../src/util/thread-calls';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { openRunWriter } from '../src/store/run-writer';
import { readRunDir } from '../src/store/run-reader';
import { scanRunDir } from '../src/store/run-dir';
import { syntheticRecord } from './support/synthetic-records';
import type { ExperimentRow } from '../src/store/rows';
import { TceError } from '../src/util/errors';

const EXP: ExperimentRow = { experiment_id: 'tc_prior_only_8b_20260101_000000', condition_name: 'prior_only', pipeline: 'B', config_hash: 'abc', status: 'running' };

test('reopening resumes: committed samples are done, queued ones are not, none twice', async () => {
  const runs = tmpDir();
  const w = openRunWriter(runs, EXP, { flushRows: 1000 });
  assert.equal(w.dir, path.join(runs, EXP['experiment_id'] as string));
  for (let i = 0; i < 10; i++) w.append(syntheticRecord(i));
  await w.flush();
  for (let i = 10; i < 15; i++) w.append(syntheticRecord(i)); // never flushed: lost, as after a crash
  assert.throws(() => w.append(syntheticRecord(3)), /sample 3: appended twice/);
  assert.throws(() => w.append(syntheticRecord(12)), /sample 12: appended twice/);

  const again = openRunWriter(runs, { ...EXP, description: 'resumed' });
  assert.deepEqual([...again.doneSampleIds()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.throws(() => again.append(syntheticRecord(9)), /appended twice/);
  for (let i = 10; i < 15; i++) again.append(syntheticRecord(i));
  await again.finish({ ...EXP, status: 'completed', total_samples: 15 });
  const run = readRunDir(again.dir);
  assert.equal(run.tables.predictions.length, 15);
  assert.equal(run.experiment['status'], 'completed');
  assert.equal(run.experiment['description'], 'resumed');
  assert.equal(run.experiment['total_samples'], 15);
  assert.equal(fs.existsSync(path.join(again.dir, 'writer.lock')), false);
});

test('flushRows flushes by itself; an empty flush writes nothing', async () => {
  const w = openRunWriter(tmpDir(), EXP, { flushRows: 4 });
  await w.flush();
  assert.deepEqual(fs.readdirSync(w.dir).filter((f) => f.endsWith('.arrow')), []);
  for (let i = 0; i < 4; i++) w.append(syntheticRecord(i));
  for (let t = 0; t < 200 && w.doneSampleIds().size < 4; t++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(w.doneSampleIds().size, 4, 'the fourth append started a flush');
  for (let i = 4; i < 6; i++) w.append(syntheticRecord(i));
  await w.flush();
  assert.equal(fs.readdirSync(w.dir).filter((f) => f.endsWith('.commit.json')).length, 2);
  assert.equal(w.doneSampleIds().size, 6);
  assert.throws(() => openRunWriter(tmpDir(), EXP, { flushRows: 0 }), /flushRows must be a positive integer/);
});

test('a run directory from another config is refused', async () => {
  const runs = tmpDir();
  const w = openRunWriter(runs, EXP);
  w.append(syntheticRecord(1));
  await w.finish(EXP);
  assert.throws(() => openRunWriter(runs, { ...EXP, config_hash: 'other' }), (e: Error) =>
    /experiment\.json: experiment tc_prior_only_8b_20260101_000000 was started with config_hash abc; this run has other/.test(e.message) && (e as { code?: string }).code === 'RUN_CONFIG_MISMATCH');
  // the refused open changed nothing
  assert.equal(readRunDir(w.dir).experiment['config_hash'], 'abc');
});

test('batches without a commit marker and temporary files are ignored, then removed on reopen', async () => {
  const runs = tmpDir();
  const w = openRunWriter(runs, EXP);
  for (let i = 0; i < 3; i++) w.append(syntheticRecord(i));
  await w.finish(EXP);
  const committed = fs.readdirSync(w.dir).sort();
  // what a kill between the data files and the marker leaves behind
  fs.copyFileSync(path.join(w.dir, 'b000001.predictions.arrow'), path.join(w.dir, 'b000002.predictions.arrow'));
  fs.writeFileSync(path.join(w.dir, 'b000002.turns.arrow.tmp'), 'half');
  fs.writeFileSync(path.join(w.dir, 'experiment.json.tmp'), '{');
  assert.equal(readRunDir(w.dir).tables.predictions.length, 3);
  const again = openRunWriter(runs, EXP);
  assert.deepEqual(fs.readdirSync(again.dir).sort(), [...committed, 'writer.lock'].sort());
  again.append(syntheticRecord(7));
  await again.finish(EXP);
  assert.ok(fs.existsSync(path.join(again.dir, 'b000003.commit.json')), 'numbering continues past the removed batch');
  assert.equal(readRunDir(again.dir).tables.predictions.length, 4);
});

test('a committed file that was truncated later is an error naming it', async () => {
  const w = openRunWriter(tmpDir(), EXP);
  w.append(syntheticRecord(2));
  await w.finish(EXP);
  const f = path.join(w.dir, 'b000001.turns.arrow');
  fs.truncateSync(f, 10);
  assert.throws(() => readRunDir(w.dir), new RegExp(`${f.replace(/[.]/g, '\\.')}: 10 bytes, but b000001\\.commit\\.json recorded \\d+`));
});

test('a commit marker or experiment.json that fails its check is an error naming the file and the field; unknown marker keys are dropped', async () => {
  const w = openRunWriter(tmpDir(), EXP);
  w.append(syntheticRecord(2));
  await w.finish(EXP);
  const file = path.join(w.dir, 'b000001.commit.json');
  const good = JSON.parse(fs.readFileSync(file, 'utf8')) as { samples: number; files: { turns: { bytes: unknown } } };
  const invalid = (re: RegExp) => (e: unknown) => e instanceof TceError && e.code === 'RUN_DIR_INVALID' && re.test(e.message);
  fs.writeFileSync(file, JSON.stringify({ ...good, extra: 1 }));
  assert.deepEqual(Object.keys(scanRunDir(w.dir).committed[0]!.marker).sort(), ['batch', 'files', 'samples']);
  fs.writeFileSync(file, JSON.stringify({ ...good, samples: 1.5 }));
  assert.throws(() => readRunDir(w.dir), invalid(/b000001\.commit\.json: samples: expected an integer/));
  fs.writeFileSync(file, JSON.stringify({ ...good, files: { ...good.files, turns: { ...good.files.turns, bytes: 'many' } } }));
  assert.throws(() => readRunDir(w.dir), invalid(/b000001\.commit\.json: files\.turns\.bytes: .*expected number/));
  fs.writeFileSync(file, JSON.stringify({ ...good }));
  fs.writeFileSync(path.join(w.dir, 'experiment.json'), '[1]');
  assert.throws(() => readRunDir(w.dir), invalid(/experiment\.json: \(root\): expected a JSON object/));
});

test('a directory another live process is writing is refused; a dead one\'s lock is taken over', async () => {
  const runs = tmpDir();
  const dir = path.join(runs, EXP['experiment_id'] as string);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'writer.lock'), String(process.ppid));
  assert.throws(() => openRunWriter(runs, EXP), new RegExp(`process ${process.ppid} is writing this run`));
  fs.writeFileSync(path.join(dir, 'writer.lock'), '999999999');
  const w = openRunWriter(runs, EXP);
  assert.equal(fs.readFileSync(path.join(dir, 'writer.lock'), 'utf8'), String(process.pid));
  await w.finish(EXP);
});

test('a batch the writer thread cannot write fails the flush with an error naming the file; its samples are not done', async () => {
  const w = openRunWriter(tmpDir(), EXP);
  for (let i = 0; i < 3; i++) w.append(syntheticRecord(i));
  // The directory gone under the writer: every durable write fails with ENOENT.
  fs.rmSync(w.dir, { recursive: true, force: true });
  await assert.rejects(w.flush(), (e: unknown) => e instanceof TceError && e.code === 'WRITE_FAILED' && new RegExp(`^${w.dir.replace(/[.]/g, '\\.')}/b000001\\.(predictions|turns|tool_calls)\\.arrow: cannot write: ENOENT`).test(e.message));
  assert.equal(w.doneSampleIds().size, 0);
  assert.throws(() => w.append(syntheticRecord(4)), /cannot write: ENOENT/, 'the failure sticks to the writer');
});

/** Blobs as byte arrays (a Buffer read back equals the Uint8Array written). */
const plain = (v: unknown): unknown => (v instanceof Uint8Array ? [...v] : v ?? null);

test('the filled columns survive the trip to the writer thread: a batch of varied rows reads back cell for cell', async () => {
  const w = openRunWriter(tmpDir(), EXP);
  const recs = Array.from({ length: 9 }, (_, i) => syntheticRecord(i, { textChars: 50 + 300 * i }));
  for (const r of recs) w.append(r);
  await w.finish(EXP);
  const run = readRunDir(w.dir);
  for (const [table, key] of [['predictions', 'prediction'], ['turns', 'turns'], ['tool_calls', 'toolCalls']] as const) {
    const rows = recs.flatMap((r): unknown[] => (key === 'prediction' ? [r.prediction] : r[key])) as Array<Record<string, unknown>>;
    const t = run.tables[table];
    assert.equal(t.length, rows.length, table);
    for (const [col, cells] of Object.entries(t.columns)) {
      // The writer fills the ids; request_json and request_parts are the batch's dedupe (test 6f).
      if (['experiment_id', 'sample_id', 'request_json', 'request_parts'].includes(col)) continue;
      rows.forEach((row, i) => assert.deepEqual(plain(cells[i]), plain(row[col]), `${table}.${col} row ${i}`));
    }
  }
});

test('an error crossing a worker thread keeps its kind: a TceError its code and hint, another error its name and code', async () => {
  // Through a real port: postMessage's structured clone is what drops an
  // Error's own properties.
  const trip = (e: unknown): Promise<Error> => new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port2.once('message', (w) => { port1.close(); port2.close(); resolve(errorFromWire(w)); });
    port1.postMessage(errorToWire(e));
  });
  const tce = await trip(new TceError('RUN_WRITE', 'cannot write', 'free some space'));
  if (!(tce instanceof TceError)) assert.fail(`not a TceError: ${tce.name}`);
  assert.deepEqual([tce.code, tce.message, tce.hint], ['RUN_WRITE', 'cannot write', 'free some space']);
  const fsErr = await trip(Object.assign(new RangeError('no space left'), { code: 'ENOSPC' }));
  assert.ok(!(fsErr instanceof TceError));
  assert.deepEqual([fsErr.name, (fsErr as Error & { code?: string }).code, fsErr.message], ['RangeError', 'ENOSPC', 'no space left']);
  const thrown = await trip('a string');
  assert.deepEqual([thrown.name, thrown.message, 'code' in thrown], ['Error', 'a string', false]);
});

test('calls to a worker thread: replies settle by id, an Error rejects; the thread\'s exit rejects what waits and every later call, and is reported once', async () => {
  // The thread answers call 1, fails call 2, and exits on call 3 without answering.
  const worker = new Worker(`const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (id) => { if (id === 3) process.exit(7); parentPort.postMessage(id); });`, { eval: true });
  const failures: Error[] = [];
  const calls = new ThreadCalls<string>(worker, (code) => `test thread exited (code ${code})`, (e) => failures.push(e));
  worker.on('message', (id: number) => calls.settle(id, id === 2 ? new Error('call 2 failed') : `reply ${id}`));
  assert.equal(await calls.call((id) => worker.postMessage(id)), 'reply 1');
  await assert.rejects(calls.call((id) => worker.postMessage(id)), /call 2 failed/);
  await assert.rejects(calls.call((id) => worker.postMessage(id)), /test thread exited \(code 7\)/);
  assert.equal(calls.waiting, 0);
  await assert.rejects(calls.call(() => assert.fail('a failed thread is not sent to')), /exited \(code 7\)/);
  await assert.rejects(calls.call(() => { throw new Error('unused'); }), /exited/);
  assert.equal(failures.length, 1);
  const sendFails = new ThreadCalls<string>(new Worker('', { eval: true }), () => 'gone');
  await assert.rejects(sendFails.call(() => { throw new Error('could not post'); }).catch((e: Error) => { assert.equal(sendFails.waiting, 0); throw e; }), /could not post/);
});
