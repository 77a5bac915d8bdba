import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { openDb, type DB } from '../src/store/db';
import { openRunWriter } from '../src/store/run-writer';
import { listRunDirs } from '../src/store/run-reader';
import { loadRuns } from '../src/store/bulk-load';
import { workerSource } from '../src/store/batch-source';
import { StreamLoad } from '../src/store/stream-load';
import { LoadThread } from '../src/store/load-thread';
import { syntheticRecord } from './support/synthetic-records';
import type { ExperimentRow, SampleRecord } from '../src/store/rows';

const EXP: ExperimentRow = { experiment_id: 'tc_all_tools_2b_20260101_000000', condition_name: 'all_tools', pipeline: 'B', config_hash: 'h', status: 'running' };

async function writeRun(runsDir: string, sids: number[], exp: Partial<ExperimentRow> = {}, edit?: (r: SampleRecord) => void): Promise<string> {
  const row = { ...EXP, ...exp } as ExperimentRow;
  const w = openRunWriter(runsDir, row, { flushRows: 50 });
  for (const sid of sids) {
    const r = syntheticRecord(sid);
    edit?.(r);
    w.append(r);
  }
  await w.finish({ ...row, status: 'completed', total_samples: sids.length });
  return w.dir;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

// One 300-sample run for the tests that only load it (written once: the
// writes are most of their time).
let run300: Promise<string> | undefined;
const sharedRun300 = (): Promise<string> => (run300 ??= writeRun(path.join(tmpDir(), 'runs'), range(0, 300)));

function snapshot(db: DB): unknown {
  return ['experiments', 'predictions', 'turns', 'tool_calls'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1`).raw().all());
}

test('loading the same files twice changes nothing', async () => {
  const root = tmpDir();
  const dir = await writeRun(path.join(root, 'runs'), range(0, 120));
  const db = openDb(path.join(root, 't.db'));
  const first = loadRuns(db, [dir]);
  assert.deepEqual(first, { experiments: 1, predictions: 120, turns: 180, toolCalls: 120, skipped: 0 });
  const before = snapshot(db);
  const second = loadRuns(db, [dir, path.join(root, 'runs')].flatMap((p) => listRunDirs([p])));
  assert.deepEqual(second, { experiments: 1, predictions: 0, turns: 0, toolCalls: 0, skipped: 120 });
  assert.deepEqual(snapshot(db), before);
  db.close();
});

test('shards from several nodes merge into one experiment, in one load or one after another', async () => {
  const root = tmpDir();
  await writeRun(path.join(root, 'node1', 'runs'), range(0, 60), { shard: '0/2' });
  await writeRun(path.join(root, 'node2', 'runs'), range(60, 100), { shard: '1/2' });
  const dirs = listRunDirs([root]);
  assert.equal(dirs.length, 2);
  const lines: string[] = [];
  const db = openDb(path.join(root, 'all.db'));
  const r = loadRuns(db, dirs, { log: (l) => lines.push(l) });
  assert.equal(r.predictions, 100);
  assert.match(lines.join('\n'), /merging 2 copies/);
  const exp = db.prepare('SELECT shard, total_samples, status FROM experiments').get();
  assert.deepEqual(exp, { shard: '0/2,1/2', total_samples: 100, status: 'completed' });
  assert.deepEqual(db.prepare('SELECT count(*) AS n, count(DISTINCT sample_id) AS d FROM predictions').get(), { n: 100, d: 100 });

  const inc = openDb(path.join(root, 'inc.db'));
  assert.equal(loadRuns(inc, [dirs[0]!]).predictions, 60);
  assert.equal(loadRuns(inc, [dirs[1]!]).predictions, 40);
  assert.deepEqual(inc.prepare('SELECT * FROM predictions ORDER BY sample_id').all().map((x) => ({ ...(x as object), id: 0, created_at: '' })),
    db.prepare('SELECT * FROM predictions ORDER BY sample_id').all().map((x) => ({ ...(x as object), id: 0, created_at: '' })));
  db.close();
  inc.close();
});

test('identical copies of a sample are loaded once; different ones stop the load naming both files', async () => {
  const root = tmpDir();
  const a = await writeRun(path.join(root, 'a'), range(0, 30));
  const copy = path.join(root, 'copy', path.basename(a));
  fs.cpSync(a, copy, { recursive: true });
  const db = openDb(path.join(root, 't.db'));
  assert.deepEqual(loadRuns(db, [a, copy]), { experiments: 1, predictions: 30, turns: 43, toolCalls: 30, skipped: 30 });

  const b = await writeRun(path.join(root, 'b'), [28, 29, 30], {}, (r) => {
    if (r.prediction['sample_id'] === 29 && r.turns[0]) r.turns[0]['response_text'] = 'another answer';
  });
  const fresh = openDb(path.join(root, 'fresh.db'));
  assert.throws(() => loadRuns(fresh, [a, b]), (e: Error) =>
    e.message.includes('sample 29') && e.message.includes(path.join(a, 'b000001.predictions.arrow')) && e.message.includes(path.join(b, 'b000001.predictions.arrow')) && e.message.includes('turns.response_text'));
  assert.equal((fresh.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n, 0, 'nothing of the failed load stays');

  const c = await writeRun(path.join(root, 'c'), [5], {}, (r) => { r.prediction['final_scene'] = 'changed'; });
  assert.throws(() => loadRuns(db, [c]), (e: Error) => e.message.includes('sample 5') && e.message.includes('already in') && e.message.includes('predictions.final_scene'));
  const d = await writeRun(path.join(root, 'd'), [1], { config_hash: 'other' });
  assert.throws(() => loadRuns(fresh, [a, d]), /has config_hash h but .* has other/);
  db.close();
  fresh.close();
});

test('a large load drops the secondary indexes and rebuilds them in the same transaction', async () => {
  const root = tmpDir();
  // 300 samples (300 predictions, 450 turns, 300 tool calls) with the
  // threshold at 250 rows: the same path as a load past the default 20,000
  // (every table over it), at a hundredth of the rows.
  const dir = await sharedRun300();
  const db = openDb(path.join(root, 't.db'));
  const indexes = () => db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name`).all();
  const before = indexes();
  const lines: string[] = [];
  loadRuns(db, [dir], { log: (l) => lines.push(l), reindexMinRows: 250 });
  // Every index the migrations made on predictions but the one holding the
  // UNIQUE constraint (since migration 12 the plan's idx_predictions_exp):
  // the plan's revised and flip indexes.
  const secondary = (db.prepare(`SELECT count(*) AS n FROM pragma_index_list('predictions') WHERE "unique" = 0`).get() as { n: number }).n;
  assert.ok(secondary >= 2);
  assert.match(lines.join('\n'), new RegExp(`predictions: ${secondary} indexes dropped for the load and rebuilt after it`));
  assert.deepEqual(indexes(), before);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test('a worker thread that decodes the run files loads what this thread loads; a damaged file is named, the experiments before it stay', async () => {
  const root = tmpDir();
  const runs = path.join(root, 'runs');
  await writeRun(runs, range(0, 150));
  await writeRun(runs, range(0, 90), { experiment_id: 'tc_baseline_2b_20260101_000000', condition_name: 'baseline', pipeline: 'A' });
  await writeRun(runs, range(40, 200), { experiment_id: 'tc_oracle_2b_20260101_000000', condition_name: 'oracle', pipeline: 'B' });
  const dirs = listRunDirs([runs]);
  const texts = (db: DB) => db.prepare('SELECT id, text FROM texts ORDER BY id').raw().all();
  const load = (name: string, decodeWorker: boolean) => {
    const db = openDb(path.join(root, name));
    const r = loadRuns(db, dirs, { decodeWorker });
    return { db, r };
  };
  const inline = load('inline.db', false);
  const worker = load('worker.db', true);
  assert.deepEqual(worker.r, inline.r);
  assert.ok(texts(inline.db).length > 0, 'the synthetic records have long texts');
  assert.deepEqual(texts(worker.db), texts(inline.db));
  const rows = (db: DB) => ['experiments', 'predictions', 'turns', 'tool_calls'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all().map((x) => ({ ...(x as object), created_at: '' })));
  assert.deepEqual(rows(worker.db), rows(inline.db));
  inline.db.close();
  worker.db.close();

  const damaged = path.join(dirs[1]!, 'b000001.predictions.arrow');
  fs.writeFileSync(damaged, fs.readFileSync(damaged).subarray(0, 100));
  for (const decodeWorker of [false, true]) {
    const db = openDb(path.join(root, `damaged-${decodeWorker}.db`));
    assert.throws(() => loadRuns(db, dirs, { decodeWorker }), (e: Error & { code?: string }) => e.message.includes(damaged) && e.code === 'RUN_DIR_INVALID', `decodeWorker ${decodeWorker}`);
    assert.deepEqual(db.prepare('SELECT DISTINCT experiment_id AS id FROM predictions').pluck().all(), [path.basename(dirs[0]!)]);
    db.close();
  }
});

test('a load inserts rows in the order of each table\'s key, whatever order the samples finished in', async () => {
  // Samples finished last-first, 50 to a batch: the first batch holds the
  // highest sample ids. Key order is what keeps the pages of turns (keyed by
  // sample and turn) and of the tables' key indexes filled (docs/storage.md).
  const dir = await writeRun(path.join(tmpDir(), 'runs'), range(0, 200).reverse());
  const db = openDb(path.join(tmpDir(), 't.db'));
  loadRuns(db, [dir]);
  const sids = db.prepare('SELECT sample_id FROM predictions ORDER BY id').pluck().all() as number[];
  assert.deepEqual(sids, range(0, 200));
  const calls = db.prepare('SELECT sample_id, tool_call_order FROM tool_calls ORDER BY id').raw().all() as number[][];
  assert.ok(calls.length > 0);
  assert.deepEqual(calls, [...calls].sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!));
  db.close();
});

test('listRunDirs takes run directories, runs folders and folders of nodes\' copies', async () => {
  const root = tmpDir();
  const a = await writeRun(path.join(root, 'n1', 'runs'), [1]);
  const b = await writeRun(path.join(root, 'n2', 'runs'), [2], { experiment_id: 'tc_baseline_2b_20260101_000000' });
  fs.mkdirSync(path.join(root, 'n2', 'runs', 'not-a-run'));
  assert.deepEqual(listRunDirs([a]), [a]);
  assert.deepEqual(listRunDirs([path.join(root, 'n2', 'runs')]), [b]);
  assert.deepEqual(listRunDirs([root, a]), [a, b].sort());
  fs.mkdirSync(path.join(root, 'empty'));
  assert.throws(() => listRunDirs([path.join(root, 'empty')]), /empty: holds no run directory/);
  assert.throws(() => listRunDirs([path.join(root, 'missing')]), /missing: no such directory/);
});

test('a decoding thread that dies is an error, not a hang: flagged at once, unflagged after the stall limit', () => {
  const script = path.join(__dirname, 'support', 'failing-decode-worker.js');
  const t0 = Date.now();
  assert.throws(() => workerSource([['throws']], 60_000, script).next(), (e: Error & { code?: string }) => e.code === 'LOAD_WORKER' && /ended without posting/.test(e.message));
  assert.ok(Date.now() - t0 < 20_000, 'a flagged end is seen in the next wait slice');
  // A stall limit under the 1 s wait slice: found after the first slice
  // (the waits are Atomics.wait, a shorter limit cannot fire early).
  const t1 = Date.now();
  assert.throws(() => workerSource([['exits']], 900, script).next(), (e: Error & { code?: string }) => e.code === 'LOAD_WORKER' && /no progress for 1 s/.test(e.message));
  assert.ok(Date.now() - t1 >= 900);
});

test('the load beside the run (StreamLoad) stores what the load at the end stores; a resumed folder is loaded whole at the phase end; a phase not committed leaves nothing', async () => {
  const root = tmpDir();
  const runs = path.join(root, 'runs');
  const db = openDb(path.join(root, 'stream.db'));
  const lines: string[] = [];
  const s = new StreamLoad(db, (l) => lines.push(l));
  // A resumed folder: one batch on disk before the phase opens it.
  const resumedId = 'tc_baseline_2b_20260101_000000';
  await writeRun(runs, range(0, 40), { experiment_id: resumedId, condition_name: 'baseline', pipeline: 'A', status: 'interrupted' });
  s.beginPhase();
  const open = (exp: Partial<ExperimentRow>) => {
    const row = { ...EXP, ...exp } as ExperimentRow;
    const id = String(row.experiment_id);
    const w = openRunWriter(runs, row, { flushRows: 50, onCommit: (b) => s.committed(id, b) });
    s.opened(id, w.dir, w.freshDir ?? false);
    return { w, row, id };
  };
  const a = open({});
  const b = open({ experiment_id: resumedId, condition_name: 'baseline', pipeline: 'A' });
  assert.equal(b.w.freshDir, false);
  for (const sid of range(0, 130)) a.w.append(syntheticRecord(sid));
  for (const sid of range(40, 90)) b.w.append(syntheticRecord(sid));
  for (const x of [a, b]) {
    await x.w.finish({ ...x.row, status: 'completed' });
    s.finished(x.id);
  }
  assert.ok((db.prepare('SELECT count(*) FROM predictions').pluck().get() as number) === 130, 'the fresh folder is in, batch by batch, before the phase ends');
  s.commitPhase();
  const streamed = s.end();
  assert.equal(streamed.predictions, 220);
  const classic = openDb(path.join(root, 'classic.db'));
  assert.deepEqual(streamed, loadRuns(classic, listRunDirs([runs])));
  const rows = (x: DB) => [...['experiments', 'predictions', 'turns', 'tool_calls'].map((t) => x.prepare(`SELECT * FROM ${t} ORDER BY experiment_id, ${t === 'experiments' ? 'experiment_id' : t === 'turns' ? 'sample_id, turn_index' : 'sample_id, id'}`).all().map((r) => ({ ...(r as object), id: 0, created_at: '' }))), x.prepare('SELECT * FROM texts ORDER BY id').all()];
  assert.deepEqual(rows(db), rows(classic));
  assert.match(lines.join('\n'), /tc_all_tools_2b_20260101_000000: 130 predictions, \d+ turns, \d+ tool calls loaded/);

  // A phase that fails (or is killed) before its commit: none of it stays.
  s.beginPhase();
  assert.throws(() => s.committed('tc_oracle_2b_20260101_000000', 1), /was not opened in this phase/);
  const c = open({ experiment_id: 'tc_oracle_2b_20260101_000000', condition_name: 'oracle' });
  for (const sid of range(0, 60)) c.w.append(syntheticRecord(sid));
  await c.w.finish({ ...c.row, status: 'completed' });
  s.rollback();
  assert.equal(db.prepare('SELECT count(*) FROM predictions WHERE experiment_id = ?').pluck().get(c.id), 0);
  assert.equal(db.prepare('SELECT count(*) FROM experiments WHERE experiment_id = ?').pluck().get(c.id), 0);
  db.close();
  classic.close();
});

test('the load thread: a failure is sticky, reported once, rejects the end and rolls the open phase back', async () => {
  const root = tmpDir();
  const runs = path.join(root, 'runs');
  const file = path.join(root, 't.db');
  const failures: Error[] = [];
  const t = new LoadThread(file, () => undefined, (e) => failures.push(e));
  const row = { ...EXP } as ExperimentRow;
  const w = openRunWriter(runs, row, { flushRows: 50, onCommit: (b) => t.post({ op: 'batch', id: String(row.experiment_id), batch: b }) });
  t.post({ op: 'begin' });
  t.post({ op: 'open', id: String(row.experiment_id), dir: w.dir, fresh: true });
  for (const sid of range(0, 100)) w.append(syntheticRecord(sid));
  await w.flush();
  t.post({ op: 'finish', id: 'tc_unknown_20260101_000000' });
  await assert.rejects(t.end(), /tc_unknown_20260101_000000 was not opened in this phase/);
  assert.equal(failures.length, 1);
  await assert.rejects(t.request({ op: 'commit' }), /was not opened/);
  await t.abort();
  const db = openDb(file);
  assert.equal(db.prepare('SELECT count(*) FROM predictions').pluck().get(), 0, 'the batches of the open phase were rolled back');
  db.close();
  // A database the thread cannot open: the error, not a hang.
  const bad = new LoadThread(root, () => undefined);
  await assert.rejects(bad.end(), /cannot open database|DB_OPEN|not a usable/);
  await w.finish({ ...row, status: 'completed' });
});
