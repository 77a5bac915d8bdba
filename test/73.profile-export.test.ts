import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openDb } from '../src/store/db';
import { insertSyntheticSuite } from './support/synthetic-suite';
import { tce, tmpDir } from './helpers/cli';

function suiteDb(n: number): { dir: string; file: string } {
  const dir = tmpDir();
  const file = path.join(dir, 'tool_calling.db');
  const db = openDb(file);
  insertSyntheticSuite(db, { nSamples: n, seed: 2 });
  const req = (sid: number, t: number) => JSON.stringify({ model: 'qwen3-vl-2b', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: `verify sample ${sid} turn ${t}` }] }], tools: [{ type: 'function', function: { name: 'check_scene_prior' } }] });
  const turns = db.prepare('SELECT experiment_id, sample_id, turn_index FROM turns').all() as Array<{ experiment_id: string; sample_id: number; turn_index: number }>;
  const upd = db.prepare('UPDATE turns SET request_json = ? WHERE experiment_id = ? AND sample_id = ? AND turn_index = ?');
  db.transaction(() => { for (const t of turns) upd.run(req(t.sample_id, t.turn_index), t.experiment_id, t.sample_id, t.turn_index); })();
  // one malformed call: its turn must not become a training example
  db.prepare(`UPDATE tool_calls SET schema_valid = 0, call_status = 'invalid_json' WHERE sample_id = 0`).run();
  db.close();
  return { dir, file };
}

test('tce profile writes spec 004 percentiles, the 5 s share and SVG charts per condition', async () => {
  const { dir, file } = suiteDb(80);
  const r = await tce(['profile', '--db', file, '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  const md = fs.readFileSync(path.join(dir, 'profile_report.md'), 'utf8');
  assert.match(md.split('\n')[0]!, /SYNTHETIC RESULTS/);
  assert.match(md, /\| condition \| n \| mean \| p10 \| p25 \| p40 \| p50 \| p95 \| p99 \| <5s \|/);
  assert.match(md, /!\[Per-sample total time\]\(profile_charts\/sampleMs\.svg\)/);
  const svg = fs.readFileSync(path.join(dir, 'profile_charts', 'turnMs.svg'), 'utf8');
  // 13 experiments (the staged first answers have no timing of their own)
  assert.equal((svg.match(/class="mark"/g) ?? []).length, 13);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'profile_analysis.json'), 'utf8')) as { conditions: Array<{ label: string; turnMs: { p50: number; shareUnder5s: number } }> };
  assert.equal(json.conditions.length, 13);
  for (const c of json.conditions) assert.ok(c.turnMs.p50 > 0 && c.turnMs.shareUnder5s > 0, c.label);
});

test('tce export sft keeps only valid tool-use steps of correct samples; batch writes one request per turn', async () => {
  const { dir, file } = suiteDb(40);
  const db = openDb(file, { readonly: true });
  const expectSteps = (db.prepare(`SELECT count(DISTINCT t.experiment_id || ':' || t.sample_id || ':' || t.turn_index) AS n FROM turns t JOIN tool_calls c ON c.experiment_id = t.experiment_id AND c.sample_id = t.sample_id AND c.turn_index = t.turn_index
      JOIN predictions p ON p.experiment_id = t.experiment_id AND p.sample_id = t.sample_id WHERE p.final_scene_correct = 1 AND t.sample_id <> 0`).get() as { n: number }).n;
  const nTurns = (db.prepare('SELECT count(*) AS n FROM turns').get() as { n: number }).n;
  db.close();
  const sftFile = path.join(dir, 'sft.jsonl');
  const s = await tce(['export', 'sft', '--db', file, '--out', sftFile, '--images', 'strip']);
  assert.equal(s.status, 0, s.stderr);
  const lines = fs.readFileSync(sftFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { messages: Array<{ role: string; content: unknown }>; metadata: { sample_id: number } });
  assert.equal(lines.length, expectSteps);
  assert.ok(lines.every((l) => l.metadata.sample_id !== 0));
  const last = lines[0]!.messages.at(-1)!;
  assert.equal(last.role, 'assistant');
  assert.match(String(last.content), /^<tool_call>\n\{"name":"check_/);
  assert.ok(!JSON.stringify(lines[0]).includes('data:image'));
  const batchFile = path.join(dir, 'batch.jsonl');
  const b = await tce(['export', 'batch', '--db', file, '--out', batchFile, '--images', 'ref']);
  assert.equal(b.status, 0, b.stderr);
  const reqs = fs.readFileSync(batchFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { custom_id: string; url: string; body: Record<string, unknown> });
  assert.equal(reqs.length, nTurns);
  assert.equal(new Set(reqs.map((x) => x.custom_id)).size, nTurns);
  assert.equal(reqs[0]!.url, '/v1/chat/completions');
  assert.equal(reqs[0]!.body['stream'], undefined);
  const bad = await tce(['export', 'csv', '--db', file]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /expected one of: sft, batch \(found 'csv'\)/);
});
