// What tce sends to a real vLLM, fixed against the faithful simulator:
// server-mode history, file-mode media paths, keep-alive below the server's,
// every sampling parameter pinned, and the small flags (issue 12, items 1-6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, parseConfig } from '../src/config/load';
import { checkFileModeConfig, mediaFolder } from '../src/config/media-folder';
import { exitHint, flagValue, memoryShare, vllmServeArgs } from '../src/backends/vllm/serve-args';
import { CLIENT_KEEP_ALIVE_MS, SERVER_KEEP_ALIVE_S } from '../src/backends/keep-alive';
import { VLLM_KEEP_ALIVE_S } from '../src/backends/sim/server';
import { localFile } from '../src/backends/sim/vision';
import { requestBody, type TurnParams } from '../src/run/chat-request';
import { assistantMessage, historyEntries } from '../src/run/history';
import type { ExtractedToolCall } from '../src/extract/types';
import { tmpDir } from './helpers/cli';
import { startSimulator as startSim } from '../src/backends/sim/server';
import { verificationPrompt } from '../src/protocol/prompts';
import { scenePng, dataUrl } from './fake-vllm/scene-png';

const call = (over: Partial<ExtractedToolCall>): ExtractedToolCall => ({ name: 'check_scene_prior', arguments: { predicted_scene: 'flooded' }, status: 'ok', repairs: [], raw: '', source: 'server', ...over });

test('item 1: server-mode history carries tool_calls that the tool messages answer; unreplayable calls are not replayed', () => {
  const made = [
    call({ status: 'repaired', raw: '{"predicted_scene": "flooded",}' }),
    call({ name: 'check_confusion_risk', arguments: null, status: 'invalid_json', raw: '{"predicted_scene": flooded}' }),
    call({ source: 'text' }),
    call({ name: 'check_confusion_risk', arguments: '{"predicted_scene": "flooded"}' }),
    call({ arguments: [1] }),
  ];
  const server = historyEntries('server', made, 3);
  assert.deepEqual(server.map((e) => e.id), ['call_3_0', null, null, 'call_3_3', null]);
  assert.match(server[1]!.skip!, /unreadable \(invalid_json\)/);
  assert.match(server[2]!.skip!, /found in the text/);
  assert.deepEqual(assistantMessage('server', 'Checking.\n', server), {
    role: 'assistant', content: 'Checking.\n',
    tool_calls: [
      { id: 'call_3_0', type: 'function', function: { name: 'check_scene_prior', arguments: '{"predicted_scene":"flooded"}' } },
      // A string-valued "arguments" (streamed raw by vLLM) is replayed as the object it holds.
      { id: 'call_3_3', type: 'function', function: { name: 'check_confusion_risk', arguments: '{"predicted_scene":"flooded"}' } },
    ],
  });
  // Client mode: the raw text carries every call; each one is answered.
  const client = historyEntries('client', made, 3);
  assert.deepEqual(client.map((e) => e.id), ['call_3_0', 'call_3_1', 'call_3_2', 'call_3_3', 'call_3_4']);
  assert.deepEqual(assistantMessage('client', '<tool_call>…', client), { role: 'assistant', content: '<tool_call>…' });
});

test('item 3: file mode passes the real path of the image folder itself, and refuses a flag of its own', () => {
  const dir = tmpDir('tce-media-cfg-');
  fs.mkdirSync(path.join(dir, 'real'));
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
  const cfg = parseConfig({ backend: { kind: 'vllm', vllm: { allowedLocalMediaPath: path.join(dir, 'link') } }, dataset: { imageMode: 'file' } }, 'test');
  const folder = mediaFolder(cfg);
  assert.equal(folder, path.join(fs.realpathSync(dir), 'real', 'tce-images'));
  const args = vllmServeArgs(cfg.models.verifier_2b, cfg.backend.vllm, 8000, 42, false, folder);
  assert.equal(flagValue(args, '--allowed-local-media-path'), folder);
  // vLLM's check accepts a file written there and would refuse the symlinked value.
  fs.writeFileSync(path.join(folder, 'a.png'), 'x');
  assert.equal(localFile(`file://${path.join(folder, 'a.png')}`, folder), path.join(folder, 'a.png'));
  assert.throws(() => localFile(`file://${path.join(folder, 'a.png')}`, path.join(dir, 'link', 'tce-images')), /must be a subpath/);
  const own = parseConfig({ backend: { kind: 'vllm' }, dataset: { imageMode: 'file' } }, 'test');
  own.models.verifier_8b.vllmArgs = ['--allowed-local-media-path=/data'];
  assert.throws(() => checkFileModeConfig(own), /config: models\.verifier_8b\.vllmArgs: --allowed-local-media-path is set by tce/);
  fs.writeFileSync(path.join(dir, 'file'), '');
  const notDir = parseConfig({ backend: { vllm: { allowedLocalMediaPath: path.join(dir, 'file') } }, dataset: { imageMode: 'file' } }, 'test');
  assert.throws(() => mediaFolder(notDir), /config: backend\.vllm\.allowedLocalMediaPath: cannot make the image folder/);
});

test('item 4: the client drops idle sockets before vLLM does, and spawned servers keep theirs longer', () => {
  assert.ok(CLIENT_KEEP_ALIVE_MS < VLLM_KEEP_ALIVE_S * 1000, 'below vLLM\'s default, for servers tce did not start');
  assert.ok(SERVER_KEEP_ALIVE_S * 1000 > 10 * CLIENT_KEEP_ALIVE_MS);
});

test('items 5 and 6: every sampling parameter explicit, max_completion_tokens, --generation-config vllm, no video, memory share with "="', () => {
  const p: TurnParams = { tools: [{}], toolNames: ['check_scene_prior'], parseMode: 'client', maxTokens: 512, temperature: 0, seed: 42 };
  const body = requestBody({ role: 'verifier_2b', baseUrl: 'http://x/v1', apiKey: 'k', model: 'qwen3-vl-2b' }, [], p, true);
  for (const k of ['temperature', 'top_p', 'top_k', 'min_p', 'repetition_penalty', 'presence_penalty', 'frequency_penalty', 'seed', 'max_completion_tokens']) assert.ok(k in body, k);
  assert.ok(!('max_tokens' in body), 'max_tokens is deprecated');
  assert.deepEqual([body['top_p'], body['top_k'], body['min_p'], body['repetition_penalty']], [1, -1, 0, 1]);
  const cfg = parseConfig({ backend: { kind: 'vllm', vllm: { limitMmPerPrompt: { image: 1 } } } }, 'test');
  cfg.models.verifier_2b.vllmArgs = ['--gpu-memory-utilization=0.4'];
  const args = vllmServeArgs(cfg.models.verifier_2b, cfg.backend.vllm, 8000, 42, false);
  assert.equal(flagValue(args, '--generation-config'), 'vllm');
  assert.deepEqual(JSON.parse(flagValue(args, '--limit-mm-per-prompt')!), { image: 1, video: 0 });
  assert.equal(flagValue(args, '--allowed-local-media-path'), undefined, 'data-url mode needs no media path');
  assert.equal(memoryShare(cfg.models.verifier_2b, cfg.backend.vllm), 0.4);
  assert.deepEqual(parseConfig({}, 'test').backend.vllm.limitMmPerPrompt, { image: 1, video: 0 });
});

test('--stream-interval: backend.streamInterval (default 4) reaches vllm serve; 1, vLLM\'s default, is left out; an old vLLM\'s refusal names the fix', () => {
  const cfg = parseConfig({ backend: { kind: 'vllm' } }, 'test');
  const args = vllmServeArgs(cfg.models.verifier_2b, cfg.backend.vllm, 8000, 42, false, null, cfg.backend.streamInterval);
  assert.equal(flagValue(args, '--stream-interval'), '4');
  assert.ok(!vllmServeArgs(cfg.models.verifier_2b, cfg.backend.vllm, 8000, 42, false, null, 1).includes('--stream-interval'));
  assert.match(exitHint('vllm serve: error: unrecognized arguments: --stream-interval 4\n'), /predates --stream-interval \(vLLM PR #27869\); set backend\.streamInterval to 1/);
  assert.match(exitHint('vllm serve: error: unrecognized arguments: --default-chat-template-kwargs {}\n'), /^read the log above/);
});

test('--stream-interval with run.parseMode "server": unset, 1 (vLLM\'s hermes parser lost streamed tool calls above 1 until PR #38168); given, kept', () => {
  const dir = tmpDir('tce-si-');
  const load = (json: object, overrides: Record<string, unknown> = {}) => {
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify(json));
    return loadConfig({ file, overrides }).config.backend.streamInterval;
  };
  assert.equal(load({ run: { parseMode: 'server' } }), 1);
  assert.equal(load({}, { 'run.parseMode': 'server' }), 1);
  assert.equal(load({ run: { parseMode: 'client' } }), 4);
  assert.equal(load({ run: { parseMode: 'server' }, backend: { streamInterval: 4 } }), 4);
  assert.equal(load({ run: { parseMode: 'server' } }, { 'backend.streamInterval': 8 }), 8);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('item 5: a server with generation_config.json defaults changes what an unpinned request gets, never a pinned one', async () => {
  const models = [{ servedModelName: 'qwen3-vl-2b', profile: 'qwen3-vl-2b' }];
  // A Qwen-style generation_config.json, as --generation-config auto applies it.
  const withFile = await startSim({ seed: 5, models, samplingDefaults: { top_p: 0.8, top_k: 20, repetition_penalty: 1.05 } });
  const without = await startSim({ seed: 5, models });
  try {
    const ep = (base: string) => ({ role: 'verifier_2b' as const, baseUrl: base, apiKey: 'k', model: 'qwen3-vl-2b' });
    const p: TurnParams = { tools: [], toolNames: [], parseMode: 'client', maxTokens: 256, temperature: 0, seed: 42 };
    const text = async (base: string, pinned: boolean, v: number) => {
      const messages = [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: dataUrl(scenePng(['cone'], { variant: v })) } }, { type: 'text' as const, text: verificationPrompt({ scene: 'incident_zone', longAction: 'slowdown', latAction: 'null' }) }] }];
      const body = requestBody(ep(base), messages, p, false);
      // What tce sent before: temperature only.
      if (!pinned) for (const k of ['top_p', 'top_k', 'min_p', 'repetition_penalty']) delete body[k];
      const r = await fetch(`${base}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return ((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
    };
    let differ = 0;
    for (let v = 0; v < 8; v++) {
      assert.equal(await text(withFile.baseUrl, true, v), await text(without.baseUrl, true, v), 'pinned sampling: the server defaults do not apply');
      if (await text(withFile.baseUrl, false, v) !== await text(without.baseUrl, false, v)) differ++;
    }
    assert.ok(differ > 0, 'unpinned requests depend on the server\'s generation_config.json');
  } finally {
    await withFile.close();
    await without.close();
  }
});
