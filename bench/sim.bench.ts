// Simulator throughput: how many 50-token streamed turns per second the
// built-in simulator serves, client and server in this one process (one
// core), against the contender "raw node:http SSE", a server that writes
// the same pre-built event bytes without any simulation. The ratio is the
// share of the HTTP floor the simulation keeps; turns/s is the ceiling the
// driver's own benches run into.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { measure, type BenchModule, type ScenarioResult } from './harness';
import { startSimulator } from '../src/backends/sim/server';
import { PREDICT_PROMPT } from '../src/protocol/prompts';
import { scenePng, dataUrl } from '../test/fake-vllm/scene-png';

const TURNS = 2000;
const CONCURRENCY = 32;

async function drive(origin: string, bodies: (i: number) => string, turns: number): Promise<number> {
  const pool = new Pool(origin, { connections: CONCURRENCY });
  let events = 0;
  let next = 0;
  const worker = async () => {
    while (next < turns) {
      const i = next++;
      const r = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies(i) });
      const text = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}: ${text.slice(0, 200)}`);
      for (let k = text.indexOf('data: '); k >= 0; k = text.indexOf('data: ', k + 6)) events++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await pool.close();
  return events;
}

export const bench: BenchModule = {
  name: 'sim',
  async run() {
    const sim = await startSimulator({ seed: 42, models: [{ servedModelName: 'sceneiq-ft-2b', profile: 'sceneiq-ft-2b' }] });
    const origin = sim.baseUrl.replace(/\/v1$/, '');
    const cached = dataUrl(scenePng(['cone', 'barrier'], { width: 320, height: 180 }));
    const fresh = Array.from({ length: TURNS * 8 }, (_, v) => dataUrl(scenePng(['cone'], { width: 320, height: 180, variant: v })));
    const body = (url: string) => JSON.stringify({ model: 'sceneiq-ft-2b', stream: true, max_tokens: 50, stream_options: { include_usage: true }, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: PREDICT_PROMPT }] }] });
    const cachedBody = body(cached);
    // The contender replays one real simulator response byte for byte.
    const sample = await fetch(`${sim.baseUrl}/chat/completions`, { method: 'POST', body: cachedBody }).then((r) => r.text());
    const raw = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(sample);
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    const rawOrigin = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;

    let evSim = 0, evRaw = 0, evFresh = 0;
    let freshBase = 0;
    const mSim = await measure(async () => { evSim = await drive(origin, () => cachedBody, TURNS); }, TURNS, { trials: 3 });
    const mFresh = await measure(async () => {
      const base = freshBase;
      freshBase += TURNS;
      evFresh = await drive(origin, (i) => body(fresh[(base + i) % fresh.length]!), TURNS);
    }, TURNS, { trials: 3 });
    const mRaw = await measure(async () => { evRaw = await drive(rawOrigin, () => cachedBody, TURNS); }, TURNS, { trials: 3 });
    await sim.close();
    await new Promise<void>((r) => raw.close(() => r()));
    const perTurn = (m: { wallNsPerOp: number }) => 1e9 / m.wallNsPerOp;
    const evPerTurn = (ev: number) => ev / TURNS;
    const result: ScenarioResult = {
      bench: 'sim',
      scenario: `50-token streamed turn (predictor, 320x180 PNG, ${CONCURRENCY} connections, client + server in one process)`,
      better: 'higher',
      baseline: 'raw node:http SSE',
      contenders: [
        { name: 'simulator, repeated image', value: perTurn(mSim), unit: 'turns/s', extra: { eventsPerS: perTurn(mSim) * evPerTurn(evSim), cpuUsPerTurn: mSim.cpuNsPerOp / 1e3 } },
        { name: 'simulator, fresh image each turn', value: perTurn(mFresh), unit: 'turns/s', extra: { eventsPerS: perTurn(mFresh) * evPerTurn(evFresh), cpuUsPerTurn: mFresh.cpuNsPerOp / 1e3 } },
        { name: 'raw node:http SSE', value: perTurn(mRaw), unit: 'turns/s', extra: { eventsPerS: perTurn(mRaw) * evPerTurn(evRaw), cpuUsPerTurn: mRaw.cpuNsPerOp / 1e3 } },
      ],
      notes: `events/s: ${[mSim, mFresh, mRaw].map((m, k) => Math.round(perTurn(m) * evPerTurn([evSim, evFresh, evRaw][k]!))).join(' / ')}; CPU µs per turn (client + server): ${[mSim, mFresh, mRaw].map((m) => Math.round(m.cpuNsPerOp / 1e3)).join(' / ')} (contenders in table order). Events per turn: ${evPerTurn(evSim)} (role chunk, 13 deltas of 4 tokens, usage, [DONE]); Fresh images: the PNG is decoded and its cue pixels counted on every turn.`,
    };
    return [result];
  },
};
