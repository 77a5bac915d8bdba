// Issue 14, W4: in clientMode "openai", a stream cut by requestTimeoutS is a
// failed turn (timeout), not an ok turn with the text received so far.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenAIChatClient } from '../src/run/turn';

test('openai client: a stream that stalls past the request timeout is a timeout, not ok', async () => {
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    // one chunk of text, then nothing: the server hangs mid-answer
    res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'FINAL: scene=nomi' }, finish_reason: null }] })}\n\n`);
    open.add(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = new OpenAIChatClient({ role: 'verifier', baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'k', model: 'm' } as never);
  try {
    const out = await client.turn([{ role: 'user', content: 'hi' }], { tools: [], toolNames: [], parseMode: 'client', maxTokens: 16, temperature: 0, seed: 1 },
      { knownTools: [], answerKind: 'verify' } as never, { max: 0, baseDelayMs: 1, maxDelayMs: 1, requestTimeoutMs: 300 });
    assert.equal(out.status, 'timeout', `a cut stream must fail (got ${out.status} with text ${JSON.stringify(out.result?.text)})`);
    assert.equal(out.result, null);
  } finally {
    for (const r of open) r.destroy();
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
