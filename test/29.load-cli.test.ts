import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tce, tmpDir } from './helpers/cli';
import { openRunWriter } from '../src/store/run-writer';
import { syntheticRecord } from './support/synthetic-records';
import type { ExperimentRow } from '../src/store/rows';

const EXP: ExperimentRow = { experiment_id: 'tc_all_tools_2b_20260101_000000', condition_name: 'all_tools', pipeline: 'B', config_hash: 'h', status: 'running' };

async function writeRun(runsDir: string, sids: number[], exp: Partial<ExperimentRow> = {}): Promise<void> {
  const row = { ...EXP, ...exp } as ExperimentRow;
  const w = openRunWriter(runsDir, row);
  for (const sid of sids) w.append(syntheticRecord(sid));
  await w.finish({ ...row, status: 'completed' });
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test('tce load: prints what it loaded; bad run directories are named', async () => {
  const root = tmpDir();
  const runs = path.join(root, 'runs');
  await writeRun(runs, range(0, 10));
  await writeRun(runs, range(0, 5), { experiment_id: 'tc_baseline_2b_20260101_000000', condition_name: 'baseline', pipeline: 'A' });
  const file = path.join(root, 'x.db');
  const r = await tce(['load', runs, '--db', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /loaded 2 experiments from 2 run directories: 15 predictions, 19 turns, 13 tool calls \(0 samples already present\)/);
  const again = await tce(['load', runs, '--db', file]);
  assert.match(again.stdout, /0 predictions, 0 turns, 0 tool calls \(15 samples already present\)/);
  const missing = await tce(['load', path.join(root, 'nope'), '--db', file]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope: no such directory/);
  const bad = path.join(runs, 'tc_all_tools_2b_20260101_000000', 'experiment.json');
  fs.writeFileSync(bad, '{"experiment_id": "tc_all_tools_2b_20260101_000000", "condition_name": "all_tools", "pipeline": "B", "no_such": 1}');
  const r3 = await tce(['load', runs, '--db', path.join(root, 'y.db')]);
  assert.equal(r3.status, 1);
  assert.ok(r3.stderr.includes(`${bad}: field no_such is not a column of experiments`), r3.stderr);
});
