// The analysis on what the real driver writes (simulated models, synthetic
// fixture): a small suite run by `tce run`, then the plan's acceptance checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tce, tmpDir, hasPython3, python3 } from './helpers/cli';
import { COMMANDS } from '../src/cli/commands/index';
import { sharedFixture, writeDefaultConfig } from './helpers/fixture';
import { copySharedRun, SHARED_RUN_SAMPLES } from './helpers/shared-run';

const N = SHARED_RUN_SAMPLES;
const RESULTS = 13 + 2; // 11 conditions, 2 no_tools controls, 2 staged first answers
const hasRun = COMMANDS.some((c) => c.name === 'run');

test('after a driver run: a row per condition and staged first answer, the same table from Arrow, one JSONL line per sample and condition', { skip: !hasRun && 'the driver (`tce run`) is not available' }, async () => {
  // A copy of the shared run (helpers/shared-run.ts: `tce run --limit 24
  // --force`), read from here on through the default config, as a user's
  // folder would be: analyze and report rewrite its tables and files.
  const cwd = tmpDir();
  await copySharedRun(cwd);
  writeDefaultConfig(cwd, await sharedFixture());
  const a = await tce(['analyze', '--bootstrap', '300', '--workers', '1'], { cwd });
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /^SYNTHETIC RESULTS/);
  const rows = a.stdout.split('\n').filter((l) => /^(baseline|oracle|no_tools|prior_only|confusion_only|all_tools|staged)/.test(l));
  // the 11 conditions and each staged run's first answer
  assert.equal(rows.length, RESULTS, a.stdout);
  const fromArrow = await tce(['analyze', '--from-arrow', 'tool_calling_experiment/runs', '--bootstrap', '300', '--workers', '1', '--db', 'deleted.db'], { cwd });
  assert.equal(fromArrow.status, 0, fromArrow.stderr);
  assert.equal(fromArrow.stdout, a.stdout);
  if (hasPython3()) {
    const p = spawnSync(python3()!, ['-c', `
import sqlite3
conn = sqlite3.connect('tool_calling_experiment/tool_calling.db')
for row in conn.execute('SELECT experiment_id, condition_name, scene_accuracy, revision_rate, n_saves, n_breaks, net_improvement FROM condition_metrics'):
    print(row)
conn.close()
`], { cwd, encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout.trim().split('\n').length, RESULTS);
    assert.ok(!p.stdout.includes('None'), p.stdout);
  }
  const rep = await tce(['report', '--bootstrap', '200', '--workers', '1'], { cwd });
  assert.equal(rep.status, 0, rep.stderr);
  const lines = fs.readFileSync(path.join(cwd, 'tool_calling_experiment', 'sample_report_data.json'), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, RESULTS * N);
  assert.equal(lines.filter((l) => l.includes('"synthetic":true')).length, lines.length);
  const md = fs.readFileSync(path.join(cwd, 'tool_calling_experiment', 'TOOL_CALLING_INSIGHTS_REPORT.md'), 'utf8');
  for (let i = 1; i <= 10; i++) assert.match(md, new RegExp(`^## ${i}\\. `, 'm'));
  assert.match(md, /^\*\*(\[simulated: checks the pipeline, not the model\] )?Outcome [1-4]: /m);
  const calls = lines.map((l) => JSON.parse(l) as { tool_calls: Array<{ verdict: string | null }> }).flatMap((x) => x.tool_calls);
  assert.ok(calls.length > 0 && calls.some((c) => c.verdict !== null), 'tool verdicts read from the driver\'s tool responses');

  // Batch export rebuilds each request: whole conversation, tool schemas, images inlined from the dataset.
  const b = await tce(['export', 'batch'], { cwd });
  assert.equal(b.status, 0, b.stderr);
  const reqs = fs.readFileSync(path.join(cwd, 'tool_calling_experiment', 'batch_requests.jsonl'), 'utf8').trimEnd().split('\n')
    .map((l) => JSON.parse(l) as { custom_id: string; body: { messages: Array<{ role: string; content: unknown }>; tools?: Array<{ type: string }> } });
  const second = reqs.find((x) => /^tc_all_tools_8b_.*\/1$/.test(x.custom_id))!;
  assert.ok(second, 'a second turn of all_tools_8b');
  assert.deepEqual(second.body.messages.slice(0, 2).map((m) => m.role), ['user', 'assistant']);
  assert.equal(second.body.tools?.[0]?.type, 'function');
  assert.match(JSON.stringify(second.body.messages[0]), /"url":"data:image\/(png|jpeg);base64,/);
});
