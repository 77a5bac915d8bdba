import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PNG } from 'pngjs';
import { ROOT, tmpDir } from './helpers/cli';
import { sharedFixture } from './helpers/fixture';
import { FIXTURE_MANIFEST, FIXTURE_SC_DB, fixtureIsComplete } from '../src/data/fixture/synth';
import { FINE_CONFUSION, FINE_ROWS, GT_ACTIONS, PRED_COLUMNS, PUBLISHED } from '../src/domain/published-figures';
import { compareWithPublished, computeFigures } from '../src/data/fixture/published';
import { loadExperimentData, type ExperimentData } from '../src/data/load';
import { deriveHla } from '../src/data/waypoints';
import { imageDataUrl, imageSha256, materializeImages } from '../src/data/image-payload';
import { ConfigSchema } from '../src/config/schema';
import { CUE_COLORS, CUE_MIN_PIXELS, CUES, type Cue } from '../src/domain/scene-cues';
import { SCENES } from '../src/domain/enums';
import { encodeRgbPng } from '../src/data/fixture/png-rgb';
import { Rng } from '../src/util/rng';

// The shared fixture (test/helpers/fixture.ts), synthesized with seed 42 on
// demand; read-only here.
let dir: string;
let data: ExperimentData;
let scDb: string;
let manifest: string;

before(async () => {
  dir = await sharedFixture(42);
  scDb = path.join(dir, FIXTURE_SC_DB);
  manifest = path.join(dir, FIXTURE_MANIFEST);
  const config = ConfigSchema.parse({ paths: { fixtureDir: dir } });
  data = await loadExperimentData(config);
});

const FIXTURE_MD = path.resolve(ROOT, '..', 'shared', 'spec', 'FIXTURE.md');

test('the tables in code are the tables of FIXTURE.md, cell by cell', (t) => {
  if (!fs.existsSync(FIXTURE_MD)) return t.skip('shared/spec/FIXTURE.md not in this checkout');
  const md = fs.readFileSync(FIXTURE_MD, 'utf8');
  const row = (name: string): number[] => {
    const line = md.split('\n').find((l) => l.startsWith(`| ${name} |`));
    assert.ok(line, `FIXTURE.md has a row '${name}'`);
    return line.split('|').slice(2, 8).map((c) => Number(c.replace('*', '').trim()));
  };
  for (const r of FINE_ROWS) assert.deepEqual([...FINE_CONFUSION[r]], row(r === 'NULL' ? 'NULL (unlabelled)' : r), r);
  const nominal = row('nominal');
  assert.deepEqual(nominal, FINE_CONFUSION.nominal_triggers.map((x, j) => x + FINE_CONFUSION.nominal_clean[j]!));
  for (const [scene, combos] of Object.entries(GT_ACTIONS)) {
    for (const [l, a, n] of combos) {
      const esc = `${l},${a}`.replace(/[()]/g, '');
      const seg = md.slice(md.indexOf(`${scene} (`));
      assert.match(seg.replace(/,(\d)/g, '$1'), new RegExp(`\\(${esc}\\) ${n}[,;.\\n]`), `${scene} (${l},${a}) ${n}`);
    }
  }
});

test('every published figure recomputed from the written files matches', () => {
  const comparison = compareWithPublished(computeFigures(data.samples, data.greedy));
  const bad = comparison.filter((r) => !r.match);
  assert.deepEqual(bad, []);
  assert.ok(comparison.length > 70);
  assert.equal(data.samples.length, PUBLISHED.samples);
});

test('an independent recount from self_consistency.db (SQL) and the MDS dataset agrees cell by cell', () => {
  const db = new Database(scDb, { readonly: true });
  const rows = db.prepare(`SELECT coalesce(CASE WHEN scene_type_gt = 'nominal' THEN fine_class ELSE scene_type_gt END, 'NULL') AS r, coalesce(predicted_scene, 'NULL') AS p, count(*) AS n FROM predictions GROUP BY 1, 2`).all() as Array<{ r: string; p: string; n: number }>;
  db.close();
  for (const r of FINE_ROWS) {
    PRED_COLUMNS.forEach((p, j) => assert.equal(rows.find((x) => x.r === r && x.p === p)?.n ?? 0, FINE_CONFUSION[r][j], `${r} -> ${p}`));
  }
  // The MDS dataset and the database hold the same ground truth.
  const db2 = new Database(scDb, { readonly: true });
  const gt = new Map((db2.prepare('SELECT sample_id, scene_type_gt, long_action_gt, lat_action_gt, fine_class, waypoints_gt FROM predictions').all() as Array<Record<string, unknown>>).map((r) => [r['sample_id'] as number, r]));
  db2.close();
  assert.equal(data.samples.length, 8613);
  for (const s of data.samples) {
    const r = gt.get(s.sampleId)!;
    assert.equal(s.sceneGt, r['scene_type_gt']);
    assert.equal(s.longActionGt, r['long_action_gt']);
    assert.equal(s.latActionGt, r['lat_action_gt']);
    assert.equal(s.fineClass, r['fine_class']);
    assert.deepEqual(s.waypointsGt, JSON.parse(r['waypoints_gt'] as string));
  }
});

test('waypoints follow their actions under the HLA thresholds (GT exactly, predictions too)', () => {
  for (const s of data.samples) {
    const d = deriveHla(s.waypointsGt!);
    assert.equal(d.longAction, s.longActionGt, `sample ${s.sampleId} long`);
    assert.equal(d.latAction, s.latActionGt, `sample ${s.sampleId} lat`);
  }
  let withWaypoints = 0;
  for (const g of data.greedy.values()) {
    if (!g.waypoints) continue;
    withWaypoints++;
    const d = deriveHla(g.waypoints);
    assert.equal(d.longAction, g.longAction);
    assert.equal(d.latAction, g.latAction);
  }
  assert.ok(withWaypoints >= 8601);
});

test('generated text carries the parsed fields; the 12 unparseable ones vary and name no scene', () => {
  const field = (text: string, key: string) => new RegExp(`^${key}: *(.*)$`, 'm').exec(text)?.[1]?.trim();
  const kinds = new Set<string>();
  for (const g of data.greedy.values()) {
    const text = g.generatedText;
    assert.ok(text !== null, `sample ${g.sampleId}: the fixture always has generated text`);
    const scene = field(text, 'SCENE');
    if (g.scene === null) {
      assert.ok(!SCENES.some((s) => text.includes(s)), `unparseable text names a scene: ${text}`);
      kinds.add(scene === undefined ? 'no scene field' : scene === '' ? 'empty' : 'out of enum');
      continue;
    }
    assert.equal(scene, g.scene);
    assert.equal(field(text, 'LONG_ACTION'), g.longAction);
    assert.equal(field(text, 'LAT_ACTION'), g.latAction);
    assert.deepEqual(JSON.parse(field(text, 'WAYPOINTS')!), g.waypoints);
  }
  assert.equal([...data.greedy.values()].filter((g) => g.scene === null).length, 12);
  assert.equal(kinds.size, 3);
});

test('images honour the cue contract, and a careful looker tells most but not all classes apart', () => {
  const look = (s: (typeof data.samples)[number]) => s.fineClass ?? 'unlabelled';
  const seen: Record<string, { n: number; cues: Record<string, number> }> = {};
  let correct = 0;
  let judged = 0;
  // Each pixel's cue by its packed RGB: one lookup a pixel instead of a
  // comparison per cue (the colours are distinct, so a pixel is one cue's at most).
  const cueOf = new Map(CUES.map((c) => [(CUE_COLORS[c][0] << 16) | (CUE_COLORS[c][1] << 8) | CUE_COLORS[c][2], c] as const));
  assert.equal(cueOf.size, CUES.length, 'two cues share a colour');
  for (let i = 0; i < data.samples.length; i += 7) {
    const s = data.samples[i]!;
    assert.equal(s.imageMime, 'image/png');
    const png = PNG.sync.read(Buffer.from(s.image!));
    assert.deepEqual([png.width, png.height], [128, 96]);
    const counts = Object.fromEntries(CUES.map((c) => [c, 0])) as Record<Cue, number>;
    const px = png.data;
    for (let o = 0; o < px.length; o += 4) {
      const c = cueOf.get((px[o]! << 16) | (px[o + 1]! << 8) | px[o + 2]!);
      if (c) counts[c]++;
    }
    for (const c of CUES) assert.ok(counts[c] === 0 || counts[c] >= CUE_MIN_PIXELS, `sample ${s.sampleId}: ${c} has ${counts[c]} pixels`);
    const visible = new Set(CUES.filter((c) => counts[c] > 0));
    const entry = (seen[look(s)] ??= { n: 0, cues: {} });
    entry.n++;
    for (const c of visible) entry.cues[c] = (entry.cues[c] ?? 0) + 1;
    // The rule a careful looker would apply.
    const guess = visible.has('horse') ? 'mounted_police' : visible.has('flagger_vest') || visible.has('flag') ? 'flagger'
      : visible.has('emergency_light') || visible.has('crash_debris') ? 'incident_zone' : visible.has('water') ? 'flooded' : 'nominal';
    if (s.sceneGt) { judged++; if (guess === s.sceneGt) correct++; }
  }
  const share = (lk: string, c: Cue) => (seen[lk]!.cues[c] ?? 0) / seen[lk]!.n;
  assert.ok(share('mounted_police', 'horse') > 0.85);
  assert.ok(share('flooded', 'water') > 0.85);
  assert.ok(share('flagger', 'flagger_vest') > 0.85);
  assert.ok(share('flagger', 'flag') < share('flagger', 'flagger_vest'), 'the flag is sometimes out of view');
  assert.ok(share('nominal_triggers', 'cone') + share('nominal_triggers', 'barrier') >= 1);
  assert.equal(share('nominal_triggers', 'emergency_light'), 0);
  assert.ok(share('incident_zone', 'emergency_light') > 0.5);
  assert.ok(share('nominal_clean', 'cone') < 0.15);
  const acc = correct / judged;
  assert.ok(acc > 0.8 && acc < 0.99, `careful-looker accuracy ${acc}`);
});

test('the fixture\'s PNG encoder writes the bytes pngjs wrote for the fixture (the shards and their hashes depend on it)', () => {
  const rng = new Rng(7, 'png-test');
  for (const [w, h, flat] of [[128, 96, 0.9], [128, 96, 0], [1, 1, 0], [7, 3, 0.5], [300, 40, 0.98]] as const) {
    // Flat runs with noise: what the drawings look like, and the worst case.
    const rgb = Buffer.alloc(w * h * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = i > 0 && rng.chance(flat) ? rgb[i - 1]! : rng.int(0, 255);
    const png = new PNG({ width: w, height: h });
    png.data = rgb;
    const want = PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, filterType: 1, deflateLevel: 6 });
    assert.ok(encodeRgbPng(rgb, w, h).equals(want), `${w}x${h}, flat ${flat}`);
  }
});

test('loadExperimentData reads the fixture with images and the full greedy baseline, without re-synthesizing', async () => {
  assert.equal(data.synthetic, true);
  assert.match(data.source, /synthetic/);
  assert.equal(data.greedy.size, 8613);
  assert.ok(data.samples.every((s) => s.image && s.image.length > 500));
  const before = fs.statSync(manifest).mtimeMs;
  const again = await loadExperimentData(ConfigSchema.parse({ paths: { fixtureDir: dir } }));
  assert.equal(fs.statSync(manifest).mtimeMs, before);
  assert.equal(again.samples.length, 8613);
});

test('loadExperimentData with pick decodes only the kept samples, equal to the full read\'s, with their greedy predictions only', async () => {
  const want = new Set([0, 17, 4095, 8612]);
  let offered: readonly number[] = [];
  const picked = await loadExperimentData(ConfigSchema.parse({ paths: { fixtureDir: dir } }), { pick: (ids) => { offered = ids; return want; } });
  assert.equal(offered.length, 8613, 'pick sees every sample_id');
  assert.deepEqual(picked.samples.map((s) => s.sampleId), [...want]);
  assert.deepEqual(picked.samples, data.samples.filter((s) => want.has(s.sampleId)));
  assert.deepEqual([...picked.greedy.keys()].sort((a, b) => a - b), [...want]);
  for (const id of want) assert.deepEqual(picked.greedy.get(id), data.greedy.get(id));
});

test('an incomplete fixture folder is detected (missing manifest, short shard, other seed)', () => {
  assert.equal(fixtureIsComplete(dir, 42), true);
  assert.equal(fixtureIsComplete(dir, 43), false);
  const copy = path.join(tmpDir(), 'fx');
  fs.cpSync(dir, copy, { recursive: true });
  fs.truncateSync(path.join(copy, 'mds', 'shard.00001.mds'), 10);
  assert.equal(fixtureIsComplete(copy, 42), false);
  fs.rmSync(path.join(copy, 'fixture.json'));
  assert.equal(fixtureIsComplete(copy, 42), false);
});

test('image payloads: data URL, sha256, pixel budget keeps palette colours, files for a local media path', () => {
  const s = data.samples[5]!;
  const url = imageDataUrl(s);
  assert.ok(url.startsWith('data:image/png;base64,'));
  assert.deepEqual(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'), Buffer.from(s.image!));
  assert.equal(imageDataUrl(s), url, 'cached');
  assert.match(imageSha256(s), /^[0-9a-f]{64}$/);
  const small = imageDataUrl(s, { pixelBudget: 3000, resample: 'nearest' });
  const png = PNG.sync.read(Buffer.from(small.slice(small.indexOf(',') + 1), 'base64'));
  assert.ok(png.width * png.height <= 3000 && png.width >= 60);
  const orig = PNG.sync.read(Buffer.from(s.image!));
  const colours = new Set<number>();
  for (let o = 0; o < orig.data.length; o += 4) colours.add((orig.data[o]! << 16) | (orig.data[o + 1]! << 8) | orig.data[o + 2]!);
  for (let o = 0; o < png.data.length; o += 4) assert.ok(colours.has((png.data[o]! << 16) | (png.data[o + 1]! << 8) | png.data[o + 2]!), 'no blended colours');
  const mdir = tmpDir();
  const urls = materializeImages(data.samples.slice(0, 3), mdir);
  assert.equal(urls.size, 3);
  const f = new URL(urls.get(data.samples[0]!.sampleId)!);
  assert.equal(f.protocol, 'file:');
  assert.deepEqual(fs.readFileSync(f), Buffer.from(data.samples[0]!.image!));
});
