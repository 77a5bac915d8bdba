import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir, ROOT, processMark, processesWithMark } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';

// The real path: backend.kind "vllm" spawns `vllm serve` per model. The fake
// vllm on PATH parses the same flags and serves the simulator, so spawning,
// readiness, the run and the cleanup are the production code.
test('tce run with backend.kind "vllm" spawns one server per model, runs, and leaves no process', async () => {
  const fixture = await sharedFixture();
  const dir = tmpDir('tce-vllm-path-');
  const cfg = writeTestConfig(dir, fixture, { backend: { kind: 'vllm' } });
  const mark = processMark();
  const env = { ...process.env, [mark.name]: mark.value, PATH: `${path.join(ROOT, 'test', 'fake-vllm')}${path.delimiter}${process.env['PATH'] ?? ''}` };
  const r = await tce(['run', '--config', cfg, '--limit', '15', '--conditions', 'baseline,prior_only_8b,staged_2b', '--live-predict', '--no-report', '--quiet'], { cwd: dir, env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /backend vllm/);
  const db = new Database(path.join(dir, 'tool_calling_experiment', 'tool_calling.db'), { readonly: true });
  const rows = db.prepare('SELECT e.condition_name AS c, e.backend AS b, count(p.id) AS n, sum(p.n_turns) AS turns FROM experiments e JOIN predictions p USING (experiment_id) GROUP BY 1 ORDER BY 1').all() as Array<{ c: string; b: string; n: number; turns: number }>;
  db.close();
  assert.deepEqual(rows.map((x) => [x.c, x.b, x.n]), [['baseline', 'vllm', 15], ['prior_only', 'vllm', 15], ['staged', 'vllm', 15]]);
  assert.ok(rows.every((x) => x.turns > 0), 'every condition sent requests (the baseline ran the predictor live)');
  const left = processesWithMark(mark);
  assert.deepEqual(left, [], `servers left running: ${left.join('\n')}`);
});
