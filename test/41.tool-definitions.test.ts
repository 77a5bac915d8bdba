import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tmpDir } from './helpers/cli';
import { BUILTIN_TOOLS, loadToolSet, openAiTools } from '../src/tools/registry';
import { TOOL_NAMES } from '../src/protocol/tools';
import { expectedArgs, openAiTool } from '../src/tools/tool-def';
import { TceError } from '../src/util/errors';

const SCENES = ['nominal', 'flooded', 'incident_zone', 'mounted_police', 'flagger'];

// The plan's "Tool Definitions", transcribed verbatim (Python dict -> JSON).
const PLAN = [
  { type: 'function', function: { name: 'check_scene_prior', description: 'Check how common a predicted scene type is in the training data. Returns the base rate of the predicted scene and the most common scene overall. Use this to verify whether a rare prediction is plausible.', parameters: { type: 'object', properties: { predicted_scene: { type: 'string', enum: SCENES, description: 'The predicted scene classification to check' } }, required: ['predicted_scene'] } } },
  { type: 'function', function: { name: 'check_scene_action_compatibility', description: 'Check whether a predicted action is compatible with a predicted scene type based on historical co-occurrence data. Returns whether this combination has been observed and what actions are typical for this scene.', parameters: { type: 'object', properties: { scene: { type: 'string', enum: SCENES }, long_action: { type: 'string', enum: ['stop', 'slowdown', 'proceed', 'null'], description: 'Longitudinal action prediction' }, lat_action: { type: 'string', enum: ['lc_left', 'lc_right', 'null'], description: 'Lateral action prediction' } }, required: ['scene', 'long_action', 'lat_action'] } } },
  { type: 'function', function: { name: 'check_waypoint_feasibility', description: 'Check whether predicted waypoint deltas are within the typical range for a given scene-action combination. Returns feasibility assessment and typical waypoint statistics.', parameters: { type: 'object', properties: { scene: { type: 'string', enum: SCENES }, long_action: { type: 'string', enum: ['stop', 'slowdown', 'proceed', 'null'] }, first_waypoint_x: { type: 'number', description: 'First waypoint x-delta' }, first_waypoint_y: { type: 'number', description: 'First waypoint y-delta' } }, required: ['scene', 'long_action', 'first_waypoint_x', 'first_waypoint_y'] } } },
  { type: 'function', function: { name: 'check_confusion_risk', description: 'Check whether a predicted scene type is commonly confused with another class. Returns the historical confusion rate and what class it is most often confused with. High-risk predictions should be double-checked carefully.', parameters: { type: 'object', properties: { predicted_scene: { type: 'string', enum: SCENES } }, required: ['predicted_scene'] } } },
];

test('generated OpenAI tool JSON equals the plan\'s definitions field by field, key order included', () => {
  assert.deepEqual(TOOL_NAMES, ['check_scene_prior', 'check_scene_action_compatibility', 'check_waypoint_feasibility', 'check_confusion_risk']);
  assert.deepEqual(BUILTIN_TOOLS.map((t) => t.name), TOOL_NAMES, 'the built-in tools are the protocol\'s, in its order');
  const generated = openAiTools(TOOL_NAMES);
  for (let i = 0; i < PLAN.length; i++) {
    assert.deepEqual(generated[i], PLAN[i], `tool ${TOOL_NAMES[i]}`);
    assert.equal(JSON.stringify(generated[i]), JSON.stringify(PLAN[i]), `key order of ${TOOL_NAMES[i]}`);
  }
});

test('openAiTools follows the condition\'s order and rejects unknown names', () => {
  const two = openAiTools(['check_confusion_risk', 'check_scene_prior']) as Array<{ function: { name: string } }>;
  assert.deepEqual(two.map((t) => t.function.name), ['check_confusion_risk', 'check_scene_prior']);
  assert.deepEqual(openAiTools([]), []);
  assert.throws(() => openAiTools(['check_scene_type']), (e: unknown) => e instanceof TceError && /unknown tool 'check_scene_type'/.test(e.message));
});

test('expected-argument summaries come from the same schema', () => {
  const waypoint = BUILTIN_TOOLS.find((t) => t.name === 'check_waypoint_feasibility')!;
  assert.deepEqual(expectedArgs(waypoint), {
    scene: 'nominal|flooded|incident_zone|mounted_police|flagger', long_action: 'stop|slowdown|proceed|null', first_waypoint_x: 'number', first_waypoint_y: 'number',
  });
});

test('a fifth tool is one file: loaded by path, it gets OpenAI JSON and is refused when malformed', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'check-weather.js');
  fs.writeFileSync(file, `const { z } = require(${JSON.stringify(require.resolve('zod'))});
exports.tool = { name: 'check_weather', description: 'Weather at the scene.',
  parameters: z.object({ visibility_m: z.number().describe('Visibility in metres'), night: z.boolean().optional() }),
  run: (a) => ({ verdict: a.visibility_m > 50 ? 'plausible' : 'doubtful', note: 'ok' }) };\n`);
  const tools = loadToolSet([file]);
  assert.equal(tools.size, 5);
  assert.deepEqual(openAiTool(tools.get('check_weather')!), {
    type: 'function', function: { name: 'check_weather', description: 'Weather at the scene.', parameters: { type: 'object', properties: { visibility_m: { type: 'number', description: 'Visibility in metres' }, night: { type: 'boolean' } }, required: ['visibility_m'] } },
  });
  const bad = path.join(dir, 'bad.js');
  fs.writeFileSync(bad, 'exports.tool = { name: "x" };\n');
  assert.throws(() => loadToolSet([bad]), /bad\.js: must export `tool`/);
  const dup = path.join(dir, 'dup.js');
  fs.writeFileSync(dup, fs.readFileSync(file, 'utf8').replace("'check_weather'", "'check_scene_prior'"));
  assert.throws(() => loadToolSet([dup]), /'check_scene_prior' is already defined/);
});
