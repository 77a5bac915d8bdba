import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { chooseSuiteId } from '../src/run/suite-id';
import { decodeRanges, encodeRanges } from '../src/util/sample-ranges';

const N = 15;
const CONDS = 'baseline,prior_only_2b,staged_2b';
// Columns that measure time (wall clock) and bookkeeping differ between runs by nature.
const VARIES = /(^id$|experiment_id|_ms$|time|throughput|created_at|share_total_under_5s)/;

type R = Record<string, unknown>;

function metrics(dbFile: string): R[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    const rows = db.prepare(`SELECT m.*, e.condition_name AS cond, e.verifier_size AS size FROM condition_metrics m JOIN experiments e USING (experiment_id) ORDER BY cond, size, m.experiment_id`).all() as R[];
    return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !VARIES.test(k))));
  } finally {
    db.close();
  }
}

function node(root: string, name: string, fixture: string): { dir: string; cfg: string; runs: string } {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  return { dir, cfg: writeTestConfig(dir, fixture), runs: path.join(dir, 'tool_calling_experiment', 'runs') };
}

test('suite ids: --suite, the SLURM job, config hash + date for shards, a timestamp otherwise; ranges round-trip', () => {
  assert.equal(chooseSuiteId({ suite: 'pilot-3', sharded: true, hash: 'abc', env: { SLURM_JOB_ID: '77' } }), 'pilot-3');
  assert.equal(chooseSuiteId({ sharded: false, hash: 'abc', env: { SLURM_JOB_ID: '77' } }), 'slurm-77');
  assert.equal(chooseSuiteId({ sharded: true, hash: 'abc', env: { SLURM_JOB_ID: '78', SLURM_ARRAY_JOB_ID: '77' } }), 'slurm-77');
  assert.equal(chooseSuiteId({ sharded: true, hash: '0123456789abcdef', env: {}, now: new Date('2026-12-01T05:00:00Z') }), '0123456789ab-20261201');
  assert.equal(chooseSuiteId({ sharded: false, hash: 'abc', env: {} }), null);
  assert.throws(() => chooseSuiteId({ suite: 'a_b', sharded: false, hash: 'x', env: {} }), /suite id 'a_b'/);
  assert.equal(encodeRanges([5, 1, 2, 3, 9, 10]), '1-3,5,9-10');
  assert.deepEqual(decodeRanges('1-3,5,9-10'), [1, 2, 3, 5, 9, 10]);
  assert.equal(decodeRanges('1-x'), null);
});

test('3 shards on 3 "nodes" (own run folders and databases) load into one experiment per condition equal to the unsharded run; a missing shard is named', async () => {
  const fixture = await sharedFixture();
  const root = tmpDir('tce-shards-');
  const whole = node(root, 'whole', fixture);
  const u = await tce(['run', '--config', whole.cfg, '--limit', String(N), '--conditions', CONDS, '--quiet', '--no-report'], { cwd: whole.dir });
  assert.equal(u.status, 0, u.stderr + u.stdout);
  const ua = await tce(['analyze', '--config', whole.cfg, '--bootstrap', '200'], { cwd: whole.dir });
  assert.equal(ua.status, 0, ua.stderr + ua.stdout);

  const nodes = [0, 1, 2].map((i) => node(root, `node${i}`, fixture));
  for (const [i, n] of nodes.entries()) {
    const r = await tce(['run', '--config', n.cfg, '--limit', String(N), '--conditions', CONDS, '--shard', `${i}/3`, '--quiet'], { cwd: n.dir, env: { ...process.env, SLURM_JOB_ID: '', SLURM_ARRAY_JOB_ID: '' } });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  }
  // Every node named its experiments alike without talking to the others.
  const names = nodes.map((n) => fs.readdirSync(n.runs).filter((f) => f.startsWith('tc_')).map((f) => f.replace(/\.shard-\d-of-3$/, '')).sort());
  assert.equal(names[0]!.length, 3);
  assert.deepEqual(names[1], names[0]);
  assert.deepEqual(names[2], names[0]);

  const merged = path.join(root, 'merged.db');
  const l = await tce(['load', '--db', merged, ...nodes.map((n) => n.runs)], { cwd: root });
  assert.equal(l.status, 0, l.stderr + l.stdout);
  const db = new Database(merged, { readonly: true });
  const exps = db.prepare('SELECT condition_name, shard, total_samples, status FROM experiments ORDER BY condition_name').all() as R[];
  assert.equal(exps.length, 3, JSON.stringify(exps));
  for (const e of exps) assert.deepEqual([e['shard'], e['total_samples'], e['status']], ['0/3,1/3,2/3', N, 'completed']);
  const per = db.prepare('SELECT count(*) AS n, count(DISTINCT sample_id) AS d FROM predictions GROUP BY experiment_id').all() as Array<{ n: number; d: number }>;
  for (const c of per) assert.deepEqual([c.n, c.d], [N, N]);
  db.close();
  const a = await tce(['analyze', '--db', merged, '--config', whole.cfg, '--bootstrap', '200'], { cwd: root });
  assert.equal(a.status, 0, a.stderr + a.stdout);
  const want = metrics(path.join(whole.dir, 'tool_calling_experiment', 'tool_calling.db'));
  const got = metrics(merged);
  assert.equal(got.length, want.length);
  assert.ok(want.length >= 3);
  for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], `condition_metrics row ${i}`);

  // Shard 1 absent: analysis refuses and names the samples it lacks.
  const part = path.join(root, 'partial.db');
  assert.equal((await tce(['load', '--db', part, nodes[0]!.runs, nodes[2]!.runs], { cwd: root })).status, 0);
  const p = await tce(['analyze', '--db', part, '--config', whole.cfg, '--bootstrap', '0'], { cwd: root });
  assert.notEqual(p.status, 0);
  const pdb = new Database(part, { readonly: true });
  const have = new Set((pdb.prepare("SELECT DISTINCT sample_id FROM predictions").all() as Array<{ sample_id: number }>).map((x) => x.sample_id));
  pdb.close();
  const wdb = new Database(path.join(whole.dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  const all = (wdb.prepare("SELECT DISTINCT sample_id FROM predictions ORDER BY 1").all() as Array<{ sample_id: number }>).map((x) => x.sample_id);
  wdb.close();
  const absent = all.filter((s) => !have.has(s));
  assert.equal(absent.length, N / 3);
  assert.match(p.stderr, /SAMPLES_MISSING|incomplete/);
  assert.ok(p.stderr.includes(encodeRanges(absent)), `${p.stderr} should name ${encodeRanges(absent)}`);
  assert.match(p.stderr, /shards loaded: 0\/3,2\/3/);
  const ok = await tce(['analyze', '--db', part, '--config', whole.cfg, '--bootstrap', '0', '--partial'], { cwd: root });
  assert.equal(ok.status, 0, ok.stderr);
});
