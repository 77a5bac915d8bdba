import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { greedyOf, publishedFixture, sample } from './4-tools-fixture';
import { computeToolStats, foldOf, loadToolStats, serializeToolStats, tableFor, writeToolStats } from '../src/tools/stats';
import { TceError } from '../src/util/errors';
import type { GreedyPrediction, Sample } from '../src/domain/sample';
import Database from 'better-sqlite3';
import { sharedFixture } from './helpers/fixture';
import { parseConfig } from '../src/config/load';
import { ensureToolStats } from '../src/run/tool-stats';
import { sha256File, VERIFIED_HASHES_FILE } from '../src/util/verified-hashes';

const SRC = { file: 'fixture/self_consistency.db', sha256: 'a'.repeat(64) };

test('counts and both confusion directions match the published fixture figures', () => {
  const { samples, greedy } = publishedFixture();
  const s = computeToolStats(samples, greedy, { source: SRC });
  assert.equal(s.sampleCount, 8613);
  assert.equal(s.mode, 'in_sample');
  assert.equal(s.crossFit, null);
  assert.deepEqual(s.source, SRC);
  const t = s.all;
  assert.equal(t.labelled, 8600);
  assert.equal(t.withPrediction, 8613);
  assert.deepEqual(t.sceneGtCounts, { nominal: 6728, flooded: 618, incident_zone: 322, mounted_police: 272, flagger: 660 });
  assert.deepEqual(t.scenePredCounts, { nominal: 3714, flooded: 293, incident_zone: 4032, mounted_police: 105, flagger: 457, unparsed: 12 });
  assert.equal(t.confusion.nominal.incident_zone, 3404);
  assert.equal(t.confusion.flagger.unparsed, 2);
  const iz = t.classes.incident_zone;
  assert.deepEqual(iz.baseRate, { count: 322, of: 8613 });
  assert.deepEqual(iz.predictedRate, { count: 4032, of: 8613 });
  // P(gt = iz | pred = iz) = 166/4032, so P(gt != iz | pred = iz) = 3866/4032.
  assert.deepEqual(iz.precision, { count: 166, of: 4032 });
  assert.deepEqual(iz.mostLikelyTrueWhenWrong, { scene: 'nominal', count: 3404, of: 4032 });
  assert.deepEqual(iz.recall, { count: 166, of: 322 });
  assert.deepEqual(iz.mostOftenMistakenFor, { scene: 'nominal', count: 103, of: 322 });
  // The plan's "error_rate" figures are P(pred | gt) of the most-confused class.
  assert.deepEqual(t.classes.nominal.mostOftenMistakenFor, { scene: 'incident_zone', count: 3404, of: 6728 });
  assert.deepEqual(t.classes.flagger.mostOftenMistakenFor, { scene: 'incident_zone', count: 221, of: 660 });
  // The plan's note pairs mounted_police with incident_zone (78/272 = 28.7%), but
  // the fixture's table has 82 mounted_police scenes predicted nominal: the data wins.
  assert.deepEqual(t.classes.mounted_police.mostOftenMistakenFor, { scene: 'nominal', count: 82, of: 272 });
  // Nominal predictions: 3714 minus 4 unlabelled = 3710 labelled, 3287 right.
  assert.deepEqual(t.classes.nominal.precision, { count: 3287, of: 3710 });
  assert.deepEqual(t.classes.nominal.mostLikelyTrueWhenWrong, { scene: 'flooded', count: 171, of: 3710 });
});

test('co-occurrence holds the published GT combinations, most frequent first', () => {
  const { samples, greedy } = publishedFixture();
  const t = computeToolStats(samples, greedy, {}).all;
  assert.deepEqual(t.cooccurrence.nominal, [{ longAction: 'null', latAction: 'null', count: 6728 }]);
  assert.deepEqual(t.cooccurrence.flagger.map((r) => r.count), [391, 190, 79]);
  assert.deepEqual(t.cooccurrence.incident_zone.map((r) => `${r.longAction}/${r.latAction}=${r.count}`), [
    'slowdown/null=107', 'stop/null=72', 'slowdown/lc_left=46', 'proceed/null=32', 'slowdown/lc_right=29', 'stop/lc_left=18', 'proceed/lc_left=9', 'stop/lc_right=5', 'proceed/lc_right=4',
  ]);
  const combos = Object.values(t.cooccurrence).reduce((n, rows) => n + rows.length, 0);
  // FIXTURE.md says "15 combinations" but lists 17 (1 + 1 + 3 + 3 + 9); all 17 are here.
  assert.equal(combos, 17);
});

test('waypoint statistics: count, mean, population std, interpolated percentiles of the first waypoint', () => {
  // x = 0..20, y = -x/10: p1 = 0.2, p5 = 1, p50 = 10, p95 = 19, p99 = 19.8, std = sqrt(770/21).
  const samples = Array.from({ length: 21 }, (_, i) => sample(i, 'flooded', 'slowdown', 'null', [[i, -i / 10], [99, 99]]));
  samples.push(sample(100, 'flooded', 'stop', 'null', null)); // no waypoints: not counted
  const t = computeToolStats(samples, new Map(), {}).all;
  assert.equal(t.waypoints.length, 1);
  const w = t.waypoints[0]!;
  assert.equal(w.scene, 'flooded');
  assert.equal(w.longAction, 'slowdown');
  assert.equal(w.count, 21);
  assert.equal(w.x.mean, 10);
  assert.ok(Math.abs(w.x.std - Math.sqrt(770 / 21)) < 1e-12);
  assert.deepEqual([w.x.p1, w.x.p5, w.x.p50, w.x.p95, w.x.p99].map((v) => +v.toFixed(9)), [0.2, 1, 10, 19, 19.8]);
  assert.deepEqual([w.y.p1, w.y.p50, w.y.p99].map((v) => +v.toFixed(9)), [-1.98, -1, -0.02]);
  assert.equal(t.withPrediction, 0);
});

test('the file is stable byte for byte and round-trips through the validating loader', () => {
  const { samples, greedy } = publishedFixture();
  const dir = tmpDir();
  const a = path.join(dir, 'a.json');
  const b = path.join(dir, 'b.json');
  writeToolStats(a, computeToolStats(samples, greedy, { crossFit: 5, seed: 7, source: SRC }));
  writeToolStats(b, computeToolStats([...samples].reverse(), greedy, { crossFit: 5, seed: 7, source: SRC }));
  assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'same input (in any order) gives the same bytes');
  const loaded = loadToolStats(a);
  assert.equal(serializeToolStats(loaded), fs.readFileSync(a, 'utf8'));
  assert.equal(loaded.mode, 'cross_fit_5');
});

test('a bad statistics file names the file and the field', () => {
  const { samples, greedy } = publishedFixture();
  const dir = tmpDir();
  const file = path.join(dir, 'stats.json');
  const raw = JSON.parse(serializeToolStats(computeToolStats(samples.slice(0, 50), greedy, {})));
  raw.all.classes.flagger.baseRate.count = -1;
  fs.writeFileSync(file, JSON.stringify(raw));
  assert.throws(() => loadToolStats(file), (e: unknown) => e instanceof TceError && e.code === 'TOOL_STATS_INVALID' && e.message.includes(`${file}: all.classes.flagger.baseRate.count`));
  raw.all.classes.flagger.baseRate.count = 0;
  raw.mode = 'cross_fit_3';
  fs.writeFileSync(file, JSON.stringify(raw));
  assert.throws(() => loadToolStats(file), /stats\.json: mode: "cross_fit_3" but crossFit is null/);
  fs.writeFileSync(file, '{"format": ');
  assert.throws(() => loadToolStats(file), /stats\.json: not valid JSON/);
  assert.throws(() => loadToolStats(path.join(dir, 'missing.json')), (e: unknown) => e instanceof TceError && e.code === 'TOOL_STATS_UNREADABLE' && /missing\.json/.test(e.message));
});

test('cross-fitting: balanced stratified folds, and a sample\'s table excludes its own fold', () => {
  const samples: Sample[] = [];
  const greedy = new Map<number, GreedyPrediction>();
  for (let i = 0; i < 100; i++) { samples.push(sample(i, i < 90 ? 'nominal' : 'flagger')); greedy.set(i, greedyOf(i, 'nominal')); }
  // One mounted_police sample, predicted mounted_police: only folds without it may know about it.
  samples.push(sample(500, 'mounted_police'));
  greedy.set(500, greedyOf(500, 'mounted_police'));
  const s = computeToolStats(samples, greedy, { crossFit: 4, seed: 1 });
  const cf = s.crossFit!;
  assert.equal(cf.k, 4);
  assert.equal(cf.tables.length, 4);
  const sizes = [0, 1, 2, 3].map((f) => cf.folds.filter((x) => x === f).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
  const flaggerPerFold = [0, 1, 2, 3].map((f) => samples.filter((x) => x.sceneGt === 'flagger' && foldOf(s, x.sampleId) === f).length);
  assert.ok(Math.max(...flaggerPerFold) - Math.min(...flaggerPerFold) <= 1, `flagger per fold ${flaggerPerFold}`);
  for (let f = 0; f < 4; f++) assert.equal(cf.tables[f]!.samples, 101 - sizes[f]!);
  const mpFold = foldOf(s, 500)!;
  assert.equal(tableFor(s, 500).sceneGtCounts.mounted_police, 0, 'the sample never sees its own label');
  assert.equal(tableFor(s, 500).scenePredCounts.mounted_police, 0);
  const other = samples.find((x) => foldOf(s, x.sampleId) !== mpFold)!;
  assert.equal(tableFor(s, other.sampleId).sceneGtCounts.mounted_police, 1);
  // Every sample's table is exactly "all samples not in my fold".
  for (const x of samples.slice(0, 10)) {
    const f = foldOf(s, x.sampleId)!;
    assert.equal(tableFor(s, x.sampleId).samples, samples.filter((y) => foldOf(s, y.sampleId) !== f).length);
  }
  assert.equal(foldOf(s, 99999), null);
  assert.equal(tableFor(s, 99999), s.all, 'a sample outside the data uses all statistics');
  const again = computeToolStats(samples, greedy, { crossFit: 4, seed: 1 });
  assert.deepEqual(again.crossFit!.folds, cf.folds);
  const other2 = computeToolStats(samples, greedy, { crossFit: 4, seed: 2 });
  assert.notDeepEqual(other2.crossFit!.folds, cf.folds, 'the seed matters');
});

test('bad inputs to computeToolStats are clear errors', () => {
  assert.throws(() => computeToolStats([sample(1, 'nominal'), sample(1, 'nominal')], new Map(), {}), /sample_id 1 appears twice/);
  assert.throws(() => computeToolStats([sample(1, 'nominal')], new Map(), { crossFit: 1 }), /cross-fit must be 0 .* >= 2/);
  assert.throws(() => computeToolStats([sample(1, 'nominal')], new Map(), { crossFit: 3 }), /needs at least 3 samples/);
});

test('a run remembers its source\'s hash by file identity, and an edit with mtime set back still rebuilds the statistics', async () => {
  const dir = tmpDir();
  const src = path.join(dir, 'self_consistency.db');
  fs.copyFileSync(path.join(await sharedFixture(), 'self_consistency.db'), src);
  // A whole-second mtime, so setting it back after the edit restores it to
  // the nanosecond.
  const mtime = 1_700_000_000;
  fs.utimesSync(src, mtime, mtime);
  const statsDir = path.join(dir, 'stats');
  const c = parseConfig({ dataset: { selfConsistencyDb: src }, paths: { toolStats: path.join(statsDir, 'tool_stats.json') } }, 'test');
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const built = await ensureToolStats(c, log);
  const loaded = await ensureToolStats(c, log);
  assert.equal(logs.length, 1, logs.join('\n'));
  assert.deepEqual(loaded, built);
  const remembered = JSON.parse(fs.readFileSync(path.join(statsDir, VERIFIED_HASHES_FILE), 'utf8')) as Record<string, { sha256: string }>;
  assert.equal(remembered[path.resolve(src)]?.sha256, sha256File(src));

  // Same size, same inode, mtime restored: only the bytes and ctime differ.
  const before = fs.statSync(src, { bigint: true });
  const db = new Database(src);
  db.pragma('user_version = 7');
  db.close();
  fs.utimesSync(src, mtime, mtime);
  const after = fs.statSync(src, { bigint: true });
  assert.deepEqual([after.size, after.ino, after.mtimeNs], [before.size, before.ino, before.mtimeNs]);
  logs.length = 0;
  const rebuilt = await ensureToolStats(c, log);
  assert.match(logs[0] ?? '', /are stale/);
  assert.equal(rebuilt.source?.sha256, sha256File(src));
  assert.notEqual(rebuilt.source?.sha256, built.source?.sha256);
});
