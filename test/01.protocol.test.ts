// The experiment's shared definitions (src/protocol): what "correct",
// "revised" and the gate mean, and how the conditions, stages and prompts fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correctFlag, flipFlags, isCorrect, isRevised, isSceneRevised, type Stated } from '../src/protocol/definitions';
import { gatePasses } from '../src/protocol/gate';
import { sceneMacroF1 } from '../src/protocol/scores';
import { CONDITION_NAMES, CONDITION_TABLE, STAGES, conditionLabel, conditionSpec, isRealToolCondition } from '../src/protocol/conditions';
import { STAGED_SCENE_PROMPT, stagedActionPrompt, stagedWaypointPrompt, PROMPT_MARKERS, verificationPrompt, PREDICT_PROMPT } from '../src/protocol/prompts';
import { MODEL_ROLES, roleOf } from '../src/protocol/roles';
import { TOOL_NAMES } from '../src/protocol/tools';

const said = (scene: string | null, longAction: string | null, latAction: string | null): Stated => ({ scene, longAction, latAction });

test('correct: a labelled sample whose predicted scene is its label; unlabelled is never correct and stored as NULL', () => {
  assert.equal(isCorrect('flooded', 'flooded'), true);
  assert.equal(isCorrect('flooded', 'nominal'), false);
  assert.equal(isCorrect('flooded', null), false);
  assert.equal(isCorrect(null, null), false);
  assert.equal(isCorrect('not_a_scene', 'not_a_scene'), false);
  assert.deepEqual([correctFlag('nominal', 'nominal'), correctFlag('nominal', 'flagger'), correctFlag(null, 'nominal')], [1, 0, null]);
});

test('revised: a scene change, or a change of an action that was stated; an unstated (NULL) original action is never revised', () => {
  assert.equal(isRevised(said('nominal', 'proceed', 'null'), said('nominal', 'proceed', 'null')), false);
  assert.equal(isRevised(said('nominal', 'proceed', 'null'), said('incident_zone', 'proceed', 'null')), true);
  assert.equal(isRevised(said('nominal', 'proceed', 'null'), said('nominal', 'stop', 'null')), true);
  assert.equal(isRevised(said('nominal', 'proceed', 'null'), said('nominal', 'proceed', 'lc_left')), true);
  // Pipeline B: no action stated in the first turn; the final actions are not revisions
  assert.equal(isRevised(said('nominal', null, null), said('nominal', 'stop', 'null')), false);
  // the string 'null' is a stated action ("no lateral action"), unlike SQL NULL
  assert.equal(isRevised(said('nominal', 'stop', 'null'), said('nominal', 'stop', null)), true);
  // an unparseable original scene that the final states is a scene revision
  assert.equal(isSceneRevised(said(null, null, null), said('nominal', null, null)), true);
  assert.equal(isRevised(said(null, null, null), said('nominal', null, null)), true);
});

test('save/break flags use the same "correct"', () => {
  assert.deepEqual(flipFlags('flooded', 'nominal', 'flooded'), { savedFlag: 1, brokenFlag: 0 });
  assert.deepEqual(flipFlags('flooded', 'flooded', 'nominal'), { savedFlag: 0, brokenFlag: 1 });
  assert.deepEqual(flipFlags('flooded', 'flooded', 'flooded'), { savedFlag: 0, brokenFlag: 0 });
  assert.deepEqual(flipFlags(null, 'flooded', 'nominal'), { savedFlag: null, brokenFlag: null });
});

test('the oracle gate passes when either oracle reaches the threshold', () => {
  assert.equal(gatePasses([0.69, 0.71], 0.7), true);
  assert.equal(gatePasses([0.7], 0.7), true);
  assert.equal(gatePasses([0.5, 0.69], 0.7), false);
  assert.equal(gatePasses([], 0.7), false);
  // perfect on the classes present, absent classes score zero (five-class macro average)
  assert.equal(sceneMacroF1(['nominal', 'flooded'], ['nominal', 'flooded']), 2 / 5);
});

test('each stage offers its own tools; a staged condition offers exactly the union of its stages\' tools', () => {
  for (const c of CONDITION_TABLE) {
    if (c.pipeline === 'B') assert.deepEqual(c.tools, [...new Set(c.stages.flatMap((s) => s.tools))], c.name);
    for (const t of c.tools) assert.ok((TOOL_NAMES as readonly string[]).includes(t), `${c.name}: ${t}`);
  }
  assert.equal(STAGES.length, 3);
  assert.deepEqual(CONDITION_TABLE.map((c) => c.name), [...CONDITION_NAMES]);
  assert.deepEqual(CONDITION_NAMES.filter(isRealToolCondition), ['prior_only', 'confusion_only', 'all_tools', 'staged']);
  assert.equal(conditionSpec('nope'), undefined);
  assert.equal(conditionLabel('oracle', '8b'), 'oracle_8b');
  assert.equal(conditionLabel('baseline', null), 'baseline');
  assert.deepEqual([roleOf('2b'), roleOf('8b')], ['verifier_2b', 'verifier_8b']);
  assert.deepEqual(MODEL_ROLES, ['predictor', 'verifier_2b', 'verifier_8b']);
});

test('each staged prompt names the tool its stage offers, and every prompt carries its marker', () => {
  const prompts = [STAGED_SCENE_PROMPT, stagedActionPrompt('nominal'), stagedWaypointPrompt('nominal', 'proceed')];
  prompts.forEach((p, i) => assert.ok(p.includes(`You may call the ${STAGES[i]!.tools[0]} tool`), p));
  assert.ok(STAGED_SCENE_PROMPT.includes('You may call the check_confusion_risk tool to see whether your classification is often confused with another class.'));
  assert.ok(STAGED_SCENE_PROMPT.startsWith(PROMPT_MARKERS.stageScene));
  assert.ok(prompts[1]!.startsWith(PROMPT_MARKERS.stageAction));
  assert.ok(prompts[2]!.startsWith(PROMPT_MARKERS.stageWaypoints));
  assert.ok(verificationPrompt({ scene: 'nominal', longAction: null, latAction: null }).startsWith(PROMPT_MARKERS.verify));
  assert.ok(PREDICT_PROMPT.startsWith(PROMPT_MARKERS.predict));
});
