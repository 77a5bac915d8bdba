// Every prompt the experiment sends, in one module. The verification prompt
// is the plan's, verbatim; the predictor prompt and the three staged turns
// follow the same field conventions (KEY: value lines), which the answer
// parser (src/extract) reads and the simulator (src/backends/sim) answers,
// recognising the task by PROMPT_MARKERS.
import type { Scene } from '../domain/enums';
import { SCENES, LONG_ACTIONS, LAT_ACTIONS } from '../domain/enums';
import { STAGE_ACTION, STAGE_SCENE, STAGE_WAYPOINTS, stageOf, type StageName } from './conditions';

/** How a stage prompt names the tools it offers (one per stage in the plan). */
const offered = (stage: StageName): string => stageOf(stage).tools.join(' or ');

export interface PredictionShown {
  scene: string | null;
  longAction: string | null;
  latAction: string | null;
}

const shown = (v: string | null): string => v ?? 'unparseable';

/** The label of the one line the verification prompt adds when the
 * waypoint tool is offered (the simulator reads it back). */
export const WAYPOINT_LINE_LABEL = '- Predicted first waypoint';

/** The line that shows the predicted waypoints. A deviation from the plan's
 * text: without it check_waypoint_feasibility can only be called with
 * made-up coordinates. None when the prediction has no waypoints. */
export function waypointLine(w: ReadonlyArray<readonly [number, number]> | null | undefined): string | null {
  if (!w || w.length === 0) return null;
  return `${WAYPOINT_LINE_LABEL}: (${w[0]![0]}, ${w[0]![1]}); all waypoints: ${JSON.stringify(w)}`;
}

/** The plan's "Verification Prompt Template (Pipeline A)"; `extraLine`
 * (waypointLine) follows the lateral action when given. */
export function verificationPrompt(p: PredictionShown, extraLine: string | null = null): string {
  return `You are a driving scene verification system. A prediction model has analyzed dashcam images and made predictions about the scene. Your job is to verify these predictions using the provided tools, then output your corrected predictions.

The model predicted:
- Scene type: ${shown(p.scene)}
- Longitudinal action: ${shown(p.longAction)}
- Lateral action: ${shown(p.latAction)}${extraLine === null ? '' : `\n${extraLine}`}

Use the available tools to check whether these predictions are reasonable. After checking, provide your final corrected predictions in this exact format:

FINAL_SCENE: <scene_type>
FINAL_LONG_ACTION: <action>
FINAL_LAT_ACTION: <action>
REVISED: <yes|no>
REASON: <brief explanation>`;
}

/** The fine-tuned predictor's instruction (Phase 2 when not reusing greedy). */
export const PREDICT_PROMPT = `Analyze this dashcam image. Classify the driving scene and predict the ego vehicle's high-level actions and its next waypoints.
Answer in this exact format:
SCENE: <${SCENES.join('|')}>
LONG_ACTION: <${LONG_ACTIONS.join('|')}>
LAT_ACTION: <${LAT_ACTIONS.join('|')}>
WAYPOINTS: [[x1, y1], [x2, y2], ...]`;

/** Pipeline B, turn 1: scene, with its stage's tool offered. */
export const STAGED_SCENE_PROMPT = `Stage 1 of 3. Look at this dashcam image and classify the driving scene as one of: ${SCENES.join(', ')}.
You may call the ${offered(STAGE_SCENE)} tool to see whether your classification is often confused with another class.
When you are done, answer in this exact format:
SCENE: <scene_type>`;

/** Pipeline B, turn 2: actions for the scene decided in turn 1. */
export function stagedActionPrompt(scene: Scene | null): string {
  return `Stage 2 of 3. The scene is: ${scene ?? 'unknown'}.
Predict the ego vehicle's longitudinal action (${LONG_ACTIONS.join(', ')}) and lateral action (${LAT_ACTIONS.join(', ')}).
You may call the ${offered(STAGE_ACTION)} tool to see whether the combination has been observed for this scene.
When you are done, answer in this exact format:
LONG_ACTION: <action>
LAT_ACTION: <action>`;
}

/** Pipeline B, turn 3: waypoints for the scene and action. */
export function stagedWaypointPrompt(scene: Scene | null, longAction: string | null): string {
  return `Stage 3 of 3. The scene is: ${scene ?? 'unknown'}; the longitudinal action is: ${longAction ?? 'unknown'}.
Predict the first waypoint of the ego vehicle as an (x, y) delta in metres.
You may call the ${offered(STAGE_WAYPOINTS)} tool to see whether it is within the typical range.
When you are done, answer in this exact format:
WAYPOINTS: [[x, y]]`;
}

/** Markers the simulator uses to know which task a request is. */
export const PROMPT_MARKERS = {
  verify: 'You are a driving scene verification system.',
  predict: 'Analyze this dashcam image. Classify the driving scene',
  stageScene: 'Stage 1 of 3.',
  stageAction: 'Stage 2 of 3.',
  stageWaypoints: 'Stage 3 of 3.',
} as const;
