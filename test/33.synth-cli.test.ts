import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture } from './helpers/fixture';
import { ConfigSchema } from '../src/config/schema';
import { loadExperimentData } from '../src/data/load';
import { compareWithPublished, computeFigures } from '../src/data/fixture/published';

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

test('tce synth writes the same bytes as an independent generation with the same seed and prints a matching table; inspect-dataset sees 8,613 samples', async () => {
  // The other generation is the shared fixture (seed 42), made in whichever
  // test process needed it first, through the on-demand path.
  const shared = await sharedFixture(42);
  const t = tmpDir('tce-synth-cli-');
  const a = await tce(['synth', '--out', path.join(t, 'a'), '--seed', '42']);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /SYNTHETIC fixture, seed 42: 8613 samples/);
  assert.match(a.stdout, /^confusion nominal_triggers -> incident_zone +2236 +2236$/m);
  assert.match(a.stdout, /^macro-F1 \(5 classes\) +0\.4871 +0\.4871$/m);
  assert.match(a.stdout, /all \d+ figures match FIXTURE\.md/);
  const ha = hashes(path.join(t, 'a'));
  assert.ok(Object.keys(ha).length >= 5);
  const hb = hashes(shared);
  assert.deepEqual(hb, ha);
  // The printed table is the independent generation's, row for row.
  const other = await loadExperimentData(ConfigSchema.parse({ paths: { fixtureDir: shared } }));
  const rows = compareWithPublished(computeFigures(other.samples, other.greedy));
  const printed = a.stdout.split('\n').filter((l) => /\S\s{2,}\S+\s{2,}\S+$/.test(l) && !l.startsWith('figure'));
  assert.deepEqual(printed.map((l) => l.trim().split(/\s{2,}/)), rows.map((r) => [r.figure, r.published, r.generated]));

  const ins = await tce(['inspect-dataset', path.join(t, 'a', 'mds')]);
  assert.equal(ins.status, 0, ins.stderr);
  assert.match(ins.stdout, /8613 samples in \d+ shard/);
  assert.match(ins.stdout, /image +png\n/);
  assert.match(ins.stdout, /png image 128x96, \d+ bytes/);
  const js = await tce(['inspect-dataset', path.join(t, 'a', 'mds'), '--json', '--all']);
  assert.equal(js.status, 0, js.stderr);
  const lines = js.stdout.trim().split('\n');
  assert.equal(lines.length, 8613);
  const last = JSON.parse(lines[8612]!);
  assert.equal(last.sample_id, 8612);
  assert.deepEqual(Object.keys(last.image).sort(), ['format', 'height', 'len', 'sha256', 'width']);
  assert.deepEqual(last.waypoints_gt.shape, [10, 2]);
  assert.equal((await tce(['inspect-dataset', path.join(t, 'a', 'mds'), '--all'])).status, 2, '--all needs --json');
  fs.rmSync(t, { recursive: true, force: true });
});
