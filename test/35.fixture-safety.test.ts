// Never destroy or write through what isn't ours: the fixture generator only
// rewrites folders it made, two generations at once take turns, and image
// files never follow a planted link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, sharedToolStats } from './helpers/fixture';
import { ensureFixture, fixtureIsComplete, fixtureProblem, synthesizeFixture } from '../src/data/fixture/synth';
import { VERIFIED_HASHES_FILE } from '../src/util/verified-hashes';
import { FIXTURE_LOCK, FIXTURE_MARKER, claimFixtureDir, withFixtureLock } from '../src/data/fixture/fixture-dir';
import { imageSha256, materializeImages } from '../src/data/image-payload';
import type { Sample } from '../src/domain/sample';
import { TceError } from '../src/util/errors';
import { ConfigSchema } from '../src/config/schema';
import { mediaFolder } from '../src/config/media-folder';

/** Every file under `dir` with its bytes, for byte-identical comparisons. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** A folder with the real dataset's layout: mds/ and self_consistency.db. */
function fakeRealDataset(): string {
  const dir = path.join(tmpDir('tce-real-'), 'sceneiq');
  fs.mkdirSync(path.join(dir, 'mds'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'mds', 'index.json'), '{"version": 2, "shards": []}');
  fs.writeFileSync(path.join(dir, 'mds', 'shard.00000.mds'), Buffer.from('real shard bytes'));
  fs.writeFileSync(path.join(dir, 'self_consistency.db'), Buffer.from('SQLite format 3\0 real predictions'));
  return dir;
}

test('D1: the generator refuses a folder it did not create and leaves its files byte-identical', async () => {
  const dir = fakeRealDataset();
  const before = snapshot(dir);
  await assert.rejects(synthesizeFixture({ outDir: dir, seed: 42 }), (e: unknown) => e instanceof TceError && e.code === 'FIXTURE_DIR_NOT_OURS' && e.message.includes(dir));
  await assert.rejects(ensureFixture({ outDir: dir, seed: 42 }), /refusing to write the synthetic fixture/);
  const cfg = path.join(path.dirname(dir), 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({ paths: { fixtureDir: dir } }));
  const r = await tce(['synth', '--config', cfg]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /tce: error: .*sceneiq: refusing to write the synthetic fixture into a folder tce did not create \(it holds mds, self_consistency\.db\)/);
  assert.deepEqual(snapshot(dir), before);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['mds', 'self_consistency.db'], 'no marker or lock left behind');
  // the reproduction: `tce run` with paths.fixtureDir on the real layout
  const run = await tce(['run', '--config', cfg, '--limit', '5', '--quiet', '--no-report'], { cwd: path.dirname(dir) });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /refusing to write the synthetic fixture into a folder tce did not create/);
  assert.deepEqual(snapshot(dir), before, 'tce run leaves the files byte-identical');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['mds', 'self_consistency.db']);
});

test('D1: a fixture folder tce made carries its marker; an empty or new folder is claimed', async () => {
  const fixture = await sharedFixture();
  assert.ok(fs.existsSync(path.join(fixture, FIXTURE_MARKER)));
  const empty = tmpDir('tce-empty-');
  claimFixtureDir(empty);
  assert.deepEqual(fs.readdirSync(empty), [FIXTURE_MARKER]);
  const fresh = path.join(empty, 'new', 'fixture');
  claimFixtureDir(fresh);
  assert.deepEqual(fs.readdirSync(fresh), [FIXTURE_MARKER]);
  assert.equal(fixtureIsComplete(fresh, 42), false);
  fs.rmSync(empty, { recursive: true, force: true });
});

test('L4: a bit-flipped fixture shard is caught by its hash, not only its size', async (t) => {
  const fixture = await sharedFixture();
  const copy = path.join(tmpDir('tce-flip-'), 'fx');
  fs.cpSync(fixture, copy, { recursive: true });
  t.after(() => fs.rmSync(path.dirname(copy), { recursive: true, force: true }));
  const shard = path.join(copy, 'mds', 'shard.00001.mds');
  // checked once, so its hash is remembered (.verified-hashes.json) ...
  assert.equal(fixtureProblem(copy, 42, { hashes: true }), null);
  assert.ok(fs.existsSync(path.join(copy, VERIFIED_HASHES_FILE)));
  const before = fs.statSync(shard);
  const bytes = fs.readFileSync(shard);
  bytes[1000] = bytes[1000]! ^ 0x10;
  // ... then edited in place (same inode) with its mtime set back: still caught
  fs.writeFileSync(shard, bytes);
  fs.utimesSync(shard, before.atime, before.mtime);
  assert.equal(fixtureProblem(copy, 42), null, 'same size');
  assert.match(fixtureProblem(copy, 42, { hashes: true }) ?? '', /mds\/shard\.00001\.mds does not match its sha256/);
});

test('C3: the fixture lock makes a second holder wait, and a dead holder\'s lock is taken over', async () => {
  const dir = tmpDir('tce-lock-');
  const order: string[] = [];
  const slow = withFixtureLock(dir, async () => { order.push('a-in'); await new Promise((r) => setTimeout(r, 400)); order.push('a-out'); });
  await new Promise((r) => setTimeout(r, 50));
  await withFixtureLock(dir, async () => { order.push('b-in'); });
  await slow;
  assert.deepEqual(order, ['a-in', 'a-out', 'b-in']);
  assert.equal(fs.existsSync(path.join(dir, FIXTURE_LOCK)), false);
  fs.writeFileSync(path.join(dir, FIXTURE_LOCK), '999999999\n');
  const lines: string[] = [];
  assert.equal(await withFixtureLock(dir, async () => 7, (l) => lines.push(l)), 7);
  assert.match(lines.join('\n'), /left by a process that is gone/);
});

test('C3: two processes generating the same fixture at once: one writes, the other waits and uses it', async () => {
  // A 1000-sample fixture (~1 s to write; the lock is the same for any size).
  // Both processes load the generator first and start on the same signal, so
  // the two attempts overlap however slow the machine is.
  const root = tmpDir('tce-race-');
  const dir = path.join(root, 'fixture');
  const synth = JSON.stringify(path.resolve(__dirname, '..', 'src', 'data', 'fixture', 'synth'));
  const script = `const { ensureFixture } = require(${synth}); console.log('ready'); process.stdin.once('data', () => ensureFixture({ outDir: ${JSON.stringify(dir)}, seed: 42, samples: 1000, log: (l) => console.log(l) }).then(() => { console.log('done'); process.exit(0); }, (e) => { console.log('failed: ' + e.message); process.exit(1); }));`;
  const procs = [0, 1].map(() => spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const results = procs.map((p) => new Promise<{ code: number | null; out: string }>((resolve) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', (code) => resolve({ code, out }));
  }));
  await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    const onData = (d: Buffer) => { if (d.toString().includes('ready')) { p.stdout!.off('data', onData); resolve(); } };
    p.stdout!.on('data', onData);
  })));
  for (const p of procs) p.stdin!.write('go\n');
  const [a, b] = await Promise.all(results);
  assert.equal(a!.code, 0, a!.out);
  assert.equal(b!.code, 0, b!.out);
  const generated = [a!, b!].filter((r) => /: generating \(seed 42\)/.test(r.out)).length;
  assert.equal(generated, 1, `exactly one process generates\n${a!.out}\n---\n${b!.out}`);
  assert.match(a!.out + b!.out, /another tce process is writing the fixture/);
  assert.equal(fixtureProblem(dir, 42, { hashes: true, samples: 1000 }), null);
  assert.match(fixtureProblem(dir, 42) ?? '', /fixture\.json is for 1000 samples, not 8613/, 'never taken for the whole fixture');
  assert.equal(fs.existsSync(path.join(dir, FIXTURE_LOCK)), false);
  fs.rmSync(root, { recursive: true, force: true });
});

function pngSample(id: number, fill: number): Sample {
  // Any bytes work here: materializeImages copies them, it does not decode.
  const image = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(64, fill)]);
  return { sampleId: id, chumUri: null, sceneGt: null, longActionGt: null, latActionGt: null, fineClass: null, oddLabel: null, location: null, waypointsGt: null, image, imageMime: 'image/png' };
}

test('D2: a symlink planted in the media folder is replaced, never written through', () => {
  const root = tmpDir('tce-media-');
  const media = path.join(root, 'tce-images');
  fs.mkdirSync(media);
  const victim = path.join(root, 'victim.txt');
  fs.writeFileSync(victim, 'precious user data\n');
  const s = pngSample(7, 1);
  // plant links at both names a writer might use: by sample id and by hash
  fs.symlinkSync(victim, path.join(media, '7.png'));
  fs.symlinkSync(victim, path.join(media, `${imageSha256(s)}.png`));
  const urls = materializeImages([s], media);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious user data\n');
  const file = new URL(urls.get(7)!);
  assert.equal(path.basename(file.pathname), `${imageSha256(s)}.png`);
  assert.ok(fs.lstatSync(file).isFile(), 'the link was replaced by a regular file');
  assert.deepEqual(fs.readFileSync(file), Buffer.from(s.image!));
  assert.deepEqual(fs.readdirSync(media).filter((f) => f.endsWith('.tmp')), []);
});

test('D2/W9: two runs sharing a media folder keep each other\'s images (named by content)', () => {
  const media = path.join(tmpDir('tce-media-'), 'tce-images');
  const a = pngSample(3, 1);
  const b = pngSample(3, 2); // the same sample id with other bytes (another dataset)
  const ua = materializeImages([a], media).get(3)!;
  const ub = materializeImages([b], media).get(3)!;
  assert.notEqual(ua, ub);
  assert.deepEqual(fs.readFileSync(new URL(ua)), Buffer.from(a.image!));
  assert.deepEqual(fs.readFileSync(new URL(ub)), Buffer.from(b.image!));
});

test('D2: a media folder that is a symlink is refused', () => {
  const root = tmpDir('tce-media-');
  const elsewhere = path.join(root, 'elsewhere');
  fs.mkdirSync(elsewhere);
  fs.symlinkSync(elsewhere, path.join(root, 'tce-images'));
  assert.throws(() => materializeImages([pngSample(1, 1)], path.join(root, 'tce-images')), /tce-images: is a symbolic link/);
  assert.deepEqual(fs.readdirSync(elsewhere), []);
});

test('D2: a tce-images folder replaced by a symlink is refused before any image is written', () => {
  const root = tmpDir('tce-media-');
  const elsewhere = path.join(root, 'elsewhere');
  fs.mkdirSync(elsewhere);
  fs.mkdirSync(path.join(root, 'media'));
  fs.symlinkSync(elsewhere, path.join(root, 'media', 'tce-images'));
  const config = ConfigSchema.parse({ dataset: { imageMode: 'file' }, backend: { vllm: { allowedLocalMediaPath: path.join(root, 'media') } } });
  assert.throws(() => mediaFolder(config), /tce-images: is a symbolic link/);
  assert.deepEqual(fs.readdirSync(elsewhere), []);
  fs.rmSync(root, { recursive: true, force: true });
});

test('D2 end to end: links planted at every name a file-mode run writes leave their targets byte-identical', async () => {
  const fixture = await sharedFixture();
  const root = tmpDir('tce-d2-run-');
  const run = async (name: string) => {
    const media = path.join(root, name);
    const cfg = path.join(root, `${name}.json`);
    fs.writeFileSync(cfg, JSON.stringify({
      // The shared fixture's tool statistics: built once for every test file
      // (building them is most of a small run's fixed cost).
      paths: { fixtureDir: fixture, runsDir: path.join(root, name, 'runs'), db: path.join(root, `${name}.db`), toolStats: sharedToolStats(fixture), reportsDir: root, experimentDir: root },
      dataset: { imageMode: 'file' }, backend: { vllm: { allowedLocalMediaPath: media } },
    }));
    const r = await tce(['run', '--config', cfg, '--limit', '5', '--conditions', 'oracle_2b', '--quiet', '--no-report'], { cwd: root });
    assert.equal(r.status, 0, r.stderr);
    return path.join(media, 'tce-images');
  };
  // a first run shows the names images get (by content); a second run finds a link at each, and at each sample id's name
  const names = fs.readdirSync(await run('scout')).filter((f) => !f.endsWith('.tmp'));
  assert.ok(names.length >= 5);
  const images = path.join(root, 'media', 'tce-images');
  fs.mkdirSync(images, { recursive: true });
  const victims = new Map<string, Buffer>();
  for (const [i, n] of [...names, ...[0, 1, 2, 3, 4].flatMap((id) => [`${id}.png`, `${id}.jpg`])].entries()) {
    const victim = path.join(root, `victim-${i}`);
    victims.set(victim, Buffer.from(`user file ${i}\n`));
    fs.writeFileSync(victim, victims.get(victim)!);
    fs.symlinkSync(victim, path.join(images, n));
  }
  await run('media');
  for (const [victim, bytes] of victims) assert.deepEqual(fs.readFileSync(victim), bytes, `${victim} is byte-identical`);
  for (const n of names) assert.ok(fs.lstatSync(path.join(images, n)).isFile(), `${n}: the link was replaced by tce's own file`);
});
