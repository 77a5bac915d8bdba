// The run hands the stage's offered tools to the extractor: a call to a tool
// the condition did not offer is stored as not_offered with the validity of
// spec 002 (parsed, not a known tool), and the function syntaxes are executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greedyOf, sample } from './4-tools-fixture';
import { computeToolStats } from '../src/tools/stats';
import { createToolExecutor } from '../src/tools/executor';
import { TOOL_NAMES } from '../src/protocol/tools';
import { extractText } from '../src/extract/extract';
import { EndpointLimiter } from '../src/run/limiter';
import { ToolBatcher } from '../src/run/tool-batcher';
import { newSampleLog, runToolLoop, type LoopContext } from '../src/run/tool-loop';
import type { ChatClient, TurnOutcome } from '../src/run/turn';
import type { StreamEngineOptions } from '../src/extract/types';
import type { GreedyPrediction, Sample } from '../src/domain/sample';

test('a run turn passes the offered tools: calls to other tools are not_offered, parsed = 1, known_tool = 0', async () => {
  const samples: Sample[] = [];
  const greedy = new Map<number, GreedyPrediction>();
  for (let i = 0; i < 20; i++) { samples.push(sample(i, i % 4 === 0 ? 'incident_zone' : 'nominal')); greedy.set(i, greedyOf(i, 'incident_zone')); }
  const executor = createToolExecutor({ stats: computeToolStats(samples, greedy, {}), dispatch: 'inline' });
  const replies = [
    '<function=check_scene_prior>{"predicted_scene": "incident_zone"}</function>\n<function name="check_confusion_risk">{"predicted_scene": "incident_zone"}</function>',
    'FINAL_SCENE: nominal\nFINAL_LONG_ACTION: null\nFINAL_LAT_ACTION: null\nREVISED: yes',
  ];
  const seen: StreamEngineOptions[] = [];
  const client: ChatClient = {
    endpoint: { role: 'verifier_2b', baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'x', model: 'm' },
    turn: async (_m, _p, engineOpts): Promise<TurnOutcome> => {
      seen.push(engineOpts);
      const text = replies[seen.length - 1]!;
      const ex = extractText(text, engineOpts);
      return {
        status: 'ok', error: null, retries: 0,
        result: { ...ex, text, finishReason: 'stop', usage: null, error: null, firstTokenMs: null, lastTokenMs: null, chunkTimesMs: [], chunkTokens: [], sawDone: true },
        timing: { sentAt: 0, ttftMs: null, decodeMs: null, e2eMs: 1, chunkOffsetsMs: new Float64Array(0) },
      };
    },
    close: async () => {},
  };
  const ctx: LoopContext = {
    experimentId: 'tc_test', sampleId: 0, client,
    limiter: new EndpointLimiter({ initial: 1, min: 1, max: 1, targetWaiting: null }),
    tools: new ToolBatcher(executor),
    retry: { max: 0, baseDelayMs: 1, maxDelayMs: 1, requestTimeoutMs: 1000 },
    maxTurns: 4,
    baseParams: { parseMode: 'client', maxTokens: 64, temperature: 0, seed: 1 },
    openAiTools: () => [],
    knownTools: TOOL_NAMES,
    oracle: undefined,
    imageRef: (u) => u,
  };
  const log = newSampleLog();
  const stated = { scene: 'incident_zone', longAction: null, latAction: null };
  try {
    const r = await runToolLoop(ctx, [{ role: 'user', content: 'verify' }], 'verify', ['check_scene_prior'], 'verify', stated, { turnIndex: 0, callOrder: 0 }, log);
    assert.equal(r.status, 'answered');
  } finally {
    await executor.close();
  }
  assert.deepEqual(seen.map((o) => o.offeredTools), [['check_scene_prior'], ['check_scene_prior']]);
  assert.deepEqual(seen[0]!.knownTools, TOOL_NAMES);
  const row = (name: string) => log.calls.find((c) => c.tool_name === name)!;
  const ok = row('check_scene_prior');
  assert.deepEqual([ok.call_status, ok.parsed, ok.known_tool, ok.executed_ok], ['function_eq', 1, 1, 1]);
  const off = row('check_confusion_risk');
  assert.deepEqual([off.call_status, off.parsed, off.known_tool, off.executed_ok], ['not_offered', 1, 0, 0]);
  assert.match(String(off.tool_result_json), /not available here/);
});
