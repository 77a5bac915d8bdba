// Stored requests are compact (long texts once per batch, images by hash,
// tools by name) yet rebuild byte for byte: every body the server received
// is what `tce show-request` and the rebuild print for that turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tce, tmpDir } from './helpers/cli';
import { sharedFixture, writeTestConfig } from './helpers/fixture';
import { startSimulator } from '../src/backends/sim/server';
import { loadConfig } from '../src/config/load';
import { openDb } from '../src/store/db';
import { rebuiltTurns, sentBody } from '../src/report/exports';
import { inlineImages } from '../src/cli/commands/export';

/** Forwards to `target`, keeping each chat request body as received. */
async function recordingProxy(target: number, bodies: string[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith('/chat/completions')) bodies.push(body.toString('utf8'));
      const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

test('tce show-request prints the exact body the server received, from a compact store', async () => {
  const fixture = await sharedFixture();
  const sim = await startSimulator({ seed: 1, apiKey: 'k', models: [{ servedModelName: 'remote-8b', profile: 'qwen3-vl-8b' }] });
  const received: string[] = [];
  const proxy = await recordingProxy(sim.port, received);
  const dir = tmpDir('tce-show-');
  try {
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1`;
    const cfg = writeTestConfig(dir, fixture, { backend: { kind: 'endpoints', endpoints: [{ model: 'verifier_8b', url, apiKey: 'k', servedModelName: 'remote-8b' }] } });
    const r = await tce(['run', '--config', cfg, '--conditions', 'oracle_8b', '--limit', '6', '--quiet', '--no-report'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const config = loadConfig({ file: cfg }).config;
    const raw = new Database(config.paths.db, { readonly: true });
    // A fixed paragraph of the verification prompt.
    const fixed = 'Use the available tools to check whether these predictions are reasonable.';
    const stats = raw.prepare('SELECT count(*) AS n, sum(request_parts IS NOT NULL) AS defs, sum(instr(request_json, ?) > 0) AS inline, sum(instr(request_parts, ?) > 0) AS held FROM turns_full').get(fixed, fixed) as { n: number; defs: number; inline: number; held: number };
    const multi = raw.prepare('SELECT experiment_id, sample_id, max(turn_index) AS turn FROM turns_full GROUP BY experiment_id, sample_id ORDER BY turn DESC LIMIT 1').get() as { experiment_id: string; sample_id: number; turn: number };
    const echoes = (raw.prepare(`SELECT count(*) AS n FROM turns_full WHERE instr(request_json, '{"$reply":true}') > 0`).get() as { n: number }).n;
    // Tool results are tool_calls.tool_result_json, named by call; the
    // parameters (sampling, tool names) are one part, not repeated per turn.
    const calls = (raw.prepare(`SELECT count(*) AS n FROM turns_full WHERE instr(request_json, '{"$call":') > 0`).get() as { n: number }).n;
    const resultsInline = (raw.prepare(`SELECT count(*) AS n FROM turns_full t JOIN tool_calls_full c USING (experiment_id, sample_id) WHERE instr(t.request_json, substr(json_quote(c.tool_result_json), 2, 40)) > 0`).get() as { n: number }).n;
    const paramSets = (raw.prepare('SELECT count(DISTINCT request_params) AS n FROM turns_full').get() as { n: number }).n;
    const paramsInline = (raw.prepare(`SELECT count(*) AS n FROM turns_full WHERE instr(request_json, '"max_completion_tokens"') > 0`).get() as { n: number }).n;
    // Each held part with the sample's own data, and how many turns name it.
    const held = raw.prepare(`SELECT request_parts AS parts FROM turns_full WHERE instr(request_parts, 'Scene type:') > 0`).all() as Array<{ parts: string }>;
    const shas = held.flatMap((h) => Object.entries(JSON.parse(h.parts) as Record<string, string>).filter(([, text]) => text.includes('Scene type:')).map(([sha]) => sha));
    const namedBy = shas.map((sha) => (raw.prepare('SELECT count(*) AS n FROM turns_full WHERE instr(request_json, ?) > 0').get(`{"$part":"${sha}"}`) as { n: number }).n);
    raw.close();
    assert.ok(stats.n > 6, `${stats.n} turns`);
    // One batch: each long text (the verification prompt) is held once.
    assert.ok(stats.defs >= 1 && stats.defs < stats.n, `${stats.defs} of ${stats.n} turns hold parts`);
    assert.equal(stats.inline, 0);
    // A paragraph only one turn of the batch uses (the sample's own data) is
    // inline: it is held as a part only where two turns of a batch name it
    // (a sample's turn sent again after a failed attempt, under load).
    for (const [i, n] of namedBy.entries()) assert.ok(n >= 2, `part ${shas[i]} with the sample's data is held but named by ${n} turn(s)`);
    assert.ok(echoes > 0, 'a later turn names the previous reply instead of repeating it');
    assert.ok(calls > 0, 'a later turn names the tool calls it answers instead of repeating their results');
    assert.equal(resultsInline, 0);
    assert.equal(paramsInline, 0);
    assert.equal(paramSets, 1, 'one experiment, one stage: one parameter set');
    assert.ok(stats.held >= 1 && stats.held < 6, `the fixed paragraph held ${stats.held} times for 6 samples`);

    const db = openDb(config.paths.db, { create: false });
    const images = await inlineImages(config);
    const rebuilt: string[] = [];
    for (const t of rebuiltTurns(db, { images })) {
      assert.ok(t.body, `${t.sample_id}/${t.turn_index}: ${t.problem}`);
      rebuilt.push(sentBody(t.body));
    }
    db.close();
    // Every turn's body was received byte for byte; a body received but not
    // stored is only a first-turn one (the model preflight's probe), never a
    // conversation's later turn.
    const got = new Set(received);
    for (const b of rebuilt) assert.ok(got.has(b), `a rebuilt body the server never received: ${b.slice(0, 200)}`);
    const stored = new Set(rebuilt);
    for (const b of got) if (!stored.has(b)) assert.equal((JSON.parse(b) as { messages: unknown[] }).messages.length, 1, 'an unstored request beyond a first turn');
    assert.equal(rebuilt.length, stats.n);

    const shown = await tce(['show-request', '--config', cfg, multi.experiment_id, String(multi.sample_id), String(multi.turn)], { cwd: dir });
    assert.equal(shown.status, 0, shown.stderr);
    assert.ok(multi.turn > 0, 'a sample with a tool turn');
    assert.ok(received.includes(shown.stdout), 'show-request printed a body the server received');
    const missing = await tce(['show-request', '--config', cfg, multi.experiment_id, String(multi.sample_id), '99'], { cwd: dir });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /no turn 99 of sample/);
  } finally {
    proxy.close();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
