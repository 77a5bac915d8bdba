// `tce synth`: same seed, same bytes; what it prints; inspect-dataset on what
// it wrote. Generating the whole fixture costs seconds, so the byte
// comparison runs on the first 300 samples (`--samples`, each sample the same
// as in the whole fixture, checked against the shared one), and the whole
// fixture's table is printed from the shared fixture, which test 32 checks
// figure by figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture } from './helpers/fixture';
import { compareWithPublished, computeFigures } from '../src/data/fixture/published';
import { FIXTURE_MAPPING, FIXTURE_MDS_DIR, FIXTURE_SC_DB, synthesizeFixture } from '../src/data/fixture/synth';
import { readMdsSamples } from '../src/data/mds-source';
import { readSelfConsistencyDb } from '../src/data/self-consistency';
import { synthReport } from '../src/cli/commands/synth';

function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function readFixture(dir: string) {
  return { samples: readMdsSamples(path.join(dir, FIXTURE_MDS_DIR), FIXTURE_MAPPING), greedy: readSelfConsistencyDb(path.join(dir, FIXTURE_SC_DB)).greedy };
}

// The whole shared fixture, read once for the two tests that compare with it
// (read-only; reading its 8,613 samples with their images costs ~0.3 s).
let whole: ReturnType<typeof readFixture> | null = null;
const wholeFixture = async (): Promise<ReturnType<typeof readFixture>> => (whole ??= readFixture(await sharedFixture(42)));

/** The printed table as [figure, published, generated] rows. */
function printedRows(stdout: string): string[][] {
  return stdout.split('\n').filter((l) => /\S\s{2,}\S+\s{2,}\S+$/.test(l) && !l.startsWith('figure')).map((l) => l.trim().split(/\s{2,}/));
}

test('tce synth --samples writes the same bytes as an independent generation with the same seed, the whole fixture\'s first samples, and prints their table', async () => {
  const t = tmpDir('tce-synth-cli-');
  const a = await tce(['synth', '--out', path.join(t, 'a'), '--seed', '42', '--samples', '300']);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /SYNTHETIC fixture, seed 42: 300 samples/);
  assert.match(a.stdout, /a subset \(the first 300 of 8613 samples\): FIXTURE\.md's figures hold for the whole fixture only/);
  assert.doesNotMatch(a.stdout, /MISMATCH/, 'a subset is not judged');
  // The other generation: the API, in this process.
  await synthesizeFixture({ outDir: path.join(t, 'b'), seed: 42, samples: 300 });
  const ha = hashes(path.join(t, 'a'));
  assert.ok(Object.keys(ha).length >= 4);
  assert.deepEqual(hashes(path.join(t, 'b')), ha);
  // Each sample, image included, and its greedy row as in the whole fixture.
  const sub = readFixture(path.join(t, 'a'));
  const all = await wholeFixture();
  assert.equal(sub.samples.length, 300);
  assert.deepEqual(sub.samples, all.samples.slice(0, 300));
  assert.deepEqual([...sub.greedy.values()], [...all.greedy.values()].filter((g) => g.sampleId < 300));
  // The printed table is the recomputed one, row for row.
  const rows = compareWithPublished(computeFigures(sub.samples, sub.greedy));
  assert.deepEqual(printedRows(a.stdout), rows.map((r) => [r.figure, r.published, r.generated]));
  assert.ok(rows.some((r) => !r.match), 'a subset does not reproduce the published figures');
  // A usage error, and the whole fixture is never mistaken for a subset.
  assert.equal((await tce(['synth', '--out', path.join(t, 'c'), '--samples', '9000'])).status, 2);
  fs.rmSync(t, { recursive: true, force: true });
});

test('tce synth\'s table for the whole fixture: every published figure matches, exit 0; a mismatch is marked, exit 1', async () => {
  const shared = await sharedFixture(42);
  const { samples, greedy } = await wholeFixture();
  const comparison = compareWithPublished(computeFigures(samples, greedy));
  const s = { seed: 42, samples: samples.length, subset: false, mdsDir: path.join(shared, FIXTURE_MDS_DIR), selfConsistencyDb: path.join(shared, FIXTURE_SC_DB), comparison };
  const ok = synthReport(s);
  assert.equal(ok.status, 0);
  assert.match(ok.text, /SYNTHETIC fixture, seed 42: 8613 samples/);
  assert.match(ok.text, /^confusion nominal_triggers -> incident_zone +2236 +2236$/m);
  assert.match(ok.text, /^macro-F1 \(5 classes\) +0\.4871 +0\.4871$/m);
  assert.match(ok.text, /all \d+ figures match FIXTURE\.md/);
  assert.deepEqual(printedRows(ok.text), comparison.map((r) => [r.figure, r.published, r.generated]));
  const bad = synthReport({ ...s, comparison: comparison.map((r, i) => (i === 0 ? { ...r, generated: 'x', match: false } : r)) });
  assert.equal(bad.status, 1);
  assert.match(bad.text, / x {2}MISMATCH$/m);
  assert.match(bad.text, new RegExp(`1 of ${comparison.length} figures differ from FIXTURE\\.md`));
});

test('inspect-dataset sees the whole fixture\'s 8,613 samples', async () => {
  const mds = path.join(await sharedFixture(42), FIXTURE_MDS_DIR);
  const ins = await tce(['inspect-dataset', mds]);
  assert.equal(ins.status, 0, ins.stderr);
  assert.match(ins.stdout, /8613 samples in \d+ shard/);
  assert.match(ins.stdout, /image +png\n/);
  assert.match(ins.stdout, /png image 128x96, \d+ bytes/);
  const js = await tce(['inspect-dataset', mds, '--json', '--all']);
  assert.equal(js.status, 0, js.stderr);
  const lines = js.stdout.trim().split('\n');
  assert.equal(lines.length, 8613);
  const last = JSON.parse(lines[8612]!);
  assert.equal(last.sample_id, 8612);
  assert.deepEqual(Object.keys(last.image).sort(), ['format', 'height', 'len', 'sha256', 'width']);
  assert.deepEqual(last.waypoints_gt.shape, [10, 2]);
  assert.equal((await tce(['inspect-dataset', mds, '--all'])).status, 2, '--all needs --json');
});
