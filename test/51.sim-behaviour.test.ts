// The simulated models' behaviour (SIMULATED): deterministic, driven only by
// what the request carries (image cues, prompt, tool responses), and
// different between the 2B and 8B profiles in the documented directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, type ProfileName } from '../src/backends/sim/profiles';
import { readConversation } from '../src/backends/sim/conversation';
import { parseChatRequest } from '../src/backends/sim/request';
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { seeImage, ImageError } from '../src/backends/sim/vision';
import { readPlainPng } from '../src/backends/sim/png-plain';
import { tmpDir } from './helpers/cli';
import { hermesParse } from '../src/backends/sim/hermes';
import { verificationPrompt, PREDICT_PROMPT, STAGED_SCENE_PROMPT, stagedActionPrompt } from '../src/protocol/prompts';
import type { Cue } from '../src/domain/scene-cues';
import { scenePng, dataUrl } from './fake-vllm/scene-png';
import { hash32, Rng } from '../src/util/rng';
import { sameJson, toolsBlockTokens } from '../src/backends/sim/tools-block';
import { countTokens } from '../src/backends/sim/tokenizer';
import { openAiTools } from '../src/tools/registry';

const TOOL_NAMES = ['check_scene_prior', 'check_confusion_risk', 'check_scene_action_compatibility', 'check_waypoint_feasibility'];

function answer(profile: ProfileName, cues: Cue[], variant: number, text: string, opts: { tools?: string[]; history?: Array<{ role: string; content: string }>; seed?: number } = {}): string {
  const url = dataUrl(scenePng(cues, { variant }));
  const body = {
    model: profile, tool_choice: 'none',
    ...(opts.tools ? { tools: opts.tools.map((name) => ({ type: 'function', function: { name } })) } : {}),
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text }] }, ...(opts.history ?? [])],
  };
  const req = parseChatRequest(JSON.stringify(body));
  const sight = seeImage(url);
  return generate({ seed: opts.seed ?? 42, profile, conv: readConversation(req), seen: sight.seen, imageHash: sight.hash });
}

const verify = (scene: string) => verificationPrompt({ scene, longAction: 'slowdown', latAction: 'null' });
const finalScene = (t: string) => /FINAL_SCENE: (\w+)/.exec(t)?.[1] ?? null;
const N = 120;

test('vision: cues are counted from the decoded image (PNG), with exact palette colours', () => {
  const s = seeImage(dataUrl(scenePng(['water', 'horse'])));
  assert.deepEqual([...s.seen].sort(), ['horse', 'water']);
  assert.equal(seeImage(dataUrl(scenePng([]))).seen.size, 0);
  // smart_resize scales 96x64 up past the 65,536-pixel minimum to 320x224: 10x7 tokens.
  assert.equal(s.imageTokens, 70);
});

/** `png` with its IDAT data replaced by `f(IDAT data)`, every CRC correct
 * (a single-IDAT file, as pngjs writes small images). */
function withIdat(png: Buffer, f: (z: Buffer) => Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0); b.write(type, 4, 'latin1'); data.copy(b, 8);
    b.writeUInt32BE(zlib.crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
    return b;
  };
  const idatLen = png.readUInt32BE(33);
  assert.equal(png.toString('latin1', 37, 41), 'IDAT');
  return Buffer.concat([png.subarray(0, 33), chunk('IDAT', f(png.subarray(41, 41 + idatLen))), png.subarray(45 + idatLen)]);
}

test('vision: the plain PNG reader gives pngjs\'s pixels or leaves the file to pngjs', () => {
  const src = PNG.sync.read(scenePng(['water', 'cone'], { variant: 5 }));
  // Noise so every row filter has work to undo.
  for (let i = 0; i < src.data.length; i += 7) src.data[i] = (i * 131) % 256;
  for (const colorType of [2, 6] as const) {
    for (const filterType of [-1, 0, 1, 2, 3, 4]) {
      const file = PNG.sync.write(src, { colorType, filterType });
      const ref = PNG.sync.read(file);
      const got = readPlainPng(file);
      assert.ok(got, `colorType ${colorType} filterType ${filterType}`);
      assert.equal(got.channels, colorType === 2 ? 3 : 4);
      for (let p = 0; p < ref.width * ref.height; p++) {
        for (let k = 0; k < got.channels; k++) assert.equal(got.data[p * got.channels + k], ref.data[p * 4 + k]);
      }
    }
  }
  const ok = scenePng(['horse']);
  // A bad CRC, an interlaced or 16-bit file, trailing bytes: pngjs decides.
  const badCrc = Buffer.from(ok); badCrc[badCrc.length - 14]! ^= 1; // the last IDAT chunk's CRC
  assert.equal(readPlainPng(badCrc), null);
  const pngjsError = (b: Buffer) => { try { PNG.sync.read(b); } catch (e) { return (e as Error).message; } return 'accepted'; };
  assert.throws(() => seeImage(dataUrl(badCrc)), { message: `cannot identify image file in data URL: ${pngjsError(badCrc)}` });
  // Bytes after the zlib stream (CRCs correct): pngjs refuses, so must we.
  const trailing = withIdat(ok, (z) => Buffer.concat([z, Buffer.from([1, 2, 3])]));
  assert.equal(readPlainPng(trailing), null);
  assert.notEqual(pngjsError(trailing), 'accepted');
  assert.equal(readPlainPng(PNG.sync.write(src, { colorType: 2, bitDepth: 16 } as never)), null);
  assert.equal(readPlainPng(Buffer.concat([ok, Buffer.from([0])])), null);
  assert.equal(readPlainPng(ok.subarray(0, ok.length - 12)), null);
});

test('vision: JPEG within tolerance; file:// only under the allowed path', () => {
  const png = PNG.sync.read(scenePng(['flag', 'flagger_vest']));
  const jpg = jpeg.encode({ data: png.data, width: png.width, height: png.height }, 90).data;
  const j = seeImage(`data:image/jpeg;base64,${Buffer.from(jpg).toString('base64')}`);
  assert.deepEqual([...j.seen].sort(), ['flag', 'flagger_vest']);
  const dir = tmpDir();
  const file = path.join(dir, 'img.png');
  fs.writeFileSync(file, scenePng(['horse']));
  assert.deepEqual([...seeImage(`file://${file}`, dir).seen], ['horse']);
  // One image is one image however it is sent: the identity that seeds the
  // simulated answer is the same for its data URL and its file.
  assert.equal(seeImage(`file://${file}`, dir).hash, seeImage(dataUrl(scenePng(['horse']))).hash);
  assert.throws(() => seeImage(`file://${file}`, path.join(dir, 'sub')), ImageError);
  assert.throws(() => seeImage(`file://${file}`), /allowed-local-media-path/);
});

test('deterministic: same seed and request give the same text; the seed changes draws', () => {
  const a = answer('qwen3-vl-2b', ['cone'], 1, verify('incident_zone'), { tools: TOOL_NAMES });
  assert.equal(answer('qwen3-vl-2b', ['cone'], 1, verify('incident_zone'), { tools: TOOL_NAMES }), a);
  let differs = 0;
  for (let s = 0; s < 20; s++) if (answer('qwen3-vl-2b', ['cone'], 1, verify('incident_zone'), { tools: TOOL_NAMES, seed: s }) !== a) differs++;
  assert.ok(differs > 0);
});

test('a draw keyed after a hashed prefix is the draw keyed by the joined string', () => {
  const rng = new Rng(51, 'keyed-after');
  const chars = [...'ab|\u0001 \néü世🚗'];
  const str = (n: number) => Array.from({ length: n }, () => rng.pick(chars)).join('');
  for (let i = 0; i < 500; i++) {
    const prefix = str(rng.int(0, 40));
    const rest = str(rng.int(0, 40));
    const a = Rng.keyed(prefix + rest);
    const b = Rng.keyedAfter(hash32(prefix), rest);
    for (let k = 0; k < 3; k++) assert.equal(b.next(), a.next());
  }
});

test('predictor: the fixture confusion (incident_zone on cones, flooded on water), rarely unparseable', () => {
  const count = (cues: Cue[]) => {
    const c: Record<string, number> = {};
    for (let v = 0; v < N * 2; v++) {
      const t = answer('sceneiq-ft-2b', cues, v, PREDICT_PROMPT);
      const s = /^SCENE: (\w+)\nLONG_ACTION: \w+\nLAT_ACTION: \w+\nWAYPOINTS: \[\[/.exec(t)?.[1] ?? 'unparseable';
      c[s] = (c[s] ?? 0) + 1;
    }
    return c;
  };
  const triggers = count(['cone', 'barrier']);
  assert.ok((triggers.incident_zone ?? 0) > N * 2 * 0.65, JSON.stringify(triggers));
  const water = count(['water']);
  assert.ok((water.flooded ?? 0) > N * 2 * 0.3 && (water.flooded ?? 0) < N * 2 * 0.6, JSON.stringify(water));
  const clean = count([]);
  assert.ok((clean.nominal ?? 0) > (clean.incident_zone ?? 0), JSON.stringify(clean));
});

test('verifiers call only offered tools (bar rare unknown names) and the 2B writes malformed calls far more often', () => {
  const stats = (p: ProfileName) => {
    let calls = 0, good = 0, unknown = 0;
    for (let v = 0; v < N * 2; v++) {
      const t = answer(p, ['cone'], v, verify('incident_zone'), { tools: ['check_scene_prior', 'check_confusion_risk'] });
      const blocks = t.split('<tool_call>').length - 1;
      calls += blocks;
      const parsed = hermesParse(t);
      if (parsed) good += parsed.calls.length;
      if (t.includes('check_scene_type')) unknown++;
      for (const name of TOOL_NAMES.slice(2)) assert.ok(!t.includes(name), 'not offered, not called');
    }
    return { calls, badShare: 1 - good / calls, unknown };
  };
  const s2 = stats('qwen3-vl-2b');
  const s8 = stats('qwen3-vl-8b');
  assert.ok(s2.calls > N && s8.calls > N, `${s2.calls} ${s8.calls}`);
  assert.ok(s2.badShare > s8.badShare * 2, `2B ${s2.badShare} vs 8B ${s8.badShare}`);
  assert.ok(s8.calls > s2.calls, '8B calls tools more often');
});

test('after an oracle says the scene is wrong, the 8B almost always and the 2B often revise to the true scene', () => {
  const share = (p: ProfileName) => {
    let rev = 0;
    for (let v = 0; v < N; v++) {
      const t = answer(p, ['cone'], v, verify('incident_zone'), {
        tools: ['check_scene_prior'],
        history: [{ role: 'assistant', content: '<tool_call>\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "incident_zone"}}\n</tool_call>' },
          { role: 'tool', content: '{"is_correct": false, "true_scene": "nominal", "verdict": "implausible", "alternative_scene": "nominal"}' }],
      });
      if (finalScene(t) === 'nominal') rev++;
    }
    return rev / N;
  };
  const r8 = share('qwen3-vl-8b'), r2 = share('qwen3-vl-2b');
  assert.ok(r8 > 0.9, `8B ${r8}`);
  assert.ok(r2 > 0.55 && r2 < r8, `2B ${r2}`);
});

test('a statistical warning: the 8B keeps incident_zone when it sees emergency lights; the 2B follows the advice more', () => {
  const kept = (p: ProfileName) => {
    let k = 0;
    for (let v = 0; v < N; v++) {
      const t = answer(p, ['emergency_light', 'cone'], v, verify('incident_zone'), {
        tools: ['check_scene_prior'],
        history: [{ role: 'assistant', content: 'x' }, { role: 'tool', content: '{"verdict": "implausible", "alternative_scene": "nominal", "base_rate": 0.04}' }],
      });
      if (finalScene(t) === 'incident_zone') k++;
    }
    return k / N;
  };
  const k8 = kept('qwen3-vl-8b'), k2 = kept('qwen3-vl-2b');
  assert.ok(k8 > 0.75, `8B kept ${k8}`);
  assert.ok(k2 < k8 - 0.2, `2B kept ${k2}`);
});

test('final answers use the prompt format; some turns forget the final block', () => {
  let finals = 0, forgot = 0;
  for (let v = 0; v < N * 2; v++) {
    const t = answer('qwen3-vl-2b', ['water'], v, verify('flooded'));
    if (/^FINAL_SCENE: \w+\nFINAL_LONG_ACTION: \w+\nFINAL_LAT_ACTION: \w+\nREVISED: (yes|no)\nREASON: .+$/.test(t)) finals++;
    else forgot++;
  }
  assert.ok(finals > N * 1.6 && forgot > 0, `${finals} ${forgot}`);
});

test('staged turns answer their stage format; stage 2 reads the scene from the prompt', () => {
  const s1 = answer('qwen3-vl-8b', ['horse'], 3, STAGED_SCENE_PROMPT);
  assert.ok(s1 === 'SCENE: mounted_police' || s1.includes('<tool_call>'), s1);
  const s2 = answer('qwen3-vl-8b', [], 3, stagedActionPrompt('flagger'));
  assert.match(s2, /^LONG_ACTION: (stop|slowdown|proceed)\nLAT_ACTION: null$/);
});

test('the tools block: sameJson is JSON.stringify equality, and the kept counts are the counts of the tools as sent', () => {
  // sameJson(a, b) must hold exactly when the two would stringify alike:
  // checked on random JSON values and on edits of them (a value changed,
  // two keys swapped, an element dropped), all as JSON.parse gives them.
  const rng = new Rng(7, 'same-json');
  const below = (n: number): number => rng.int(0, n - 1);
  const value = (depth: number): unknown => {
    const k = below(depth > 2 ? 4 : 6);
    if (k === 0) return null;
    if (k === 1) return below(3) === 0 ? -0 : below(5) - 2 + (below(2) ? 0.5 : 0);
    if (k === 2) return ['a', 'b', '', 'é"\\n'][below(4)];
    if (k === 3) return below(2) === 0;
    if (k === 4) return Array.from({ length: below(4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: below(4) }, (_, i) => [['x', 'y', '1', 'z'][(i + below(4)) % 4]!, value(depth + 1)]));
  };
  const edit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length && below(2) ? v.slice(1) : v.map((x, i) => (i === 0 ? edit(x) : x));
    if (v !== null && typeof v === 'object') {
      const e = Object.entries(v);
      if (e.length >= 2 && below(2)) return Object.fromEntries([e[1]!, e[0]!, ...e.slice(2)]);
      return e.length ? Object.fromEntries(e.map(([k, x], i) => [k, i === 0 ? edit(x) : x])) : { x: 1 };
    }
    return below(2) ? JSON.parse(JSON.stringify(v)) : 'other';
  };
  let same = 0, differ = 0;
  for (let i = 0; i < 3000; i++) {
    const a = JSON.parse(JSON.stringify(value(0))) as unknown;
    const b = JSON.parse(JSON.stringify(i % 3 === 0 ? a : edit(a))) as unknown;
    const want = JSON.stringify(a) === JSON.stringify(b);
    assert.equal(sameJson(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    if (want) same++; else differ++;
  }
  assert.ok(same > 500 && differ > 500, `${same} alike, ${differ} not`);

  const tools = openAiTools(TOOL_NAMES);
  const sent = (t: object[]) => JSON.parse(JSON.stringify(t)) as unknown[];
  const direct = (t: object[]) => countTokens(JSON.stringify(t)) + 95;
  assert.equal(toolsBlockTokens(undefined), 0);
  assert.equal(toolsBlockTokens(sent(tools)), direct(tools));
  assert.equal(toolsBlockTokens(sent(tools)), direct(tools), 'the kept count, for a fresh parse of the same tools');
  // The same tools with one description changed: not the kept array's count.
  const changed = tools.map((t, i) => (i === 0 ? { ...t, function: { ...(t as { function: object }).function, description: 'changed' } } : t));
  assert.equal(toolsBlockTokens(sent(changed)), direct(changed));
  assert.notEqual(direct(changed), direct(tools));
  assert.equal(toolsBlockTokens(sent(tools.slice(1))), direct(tools.slice(1)));
});
