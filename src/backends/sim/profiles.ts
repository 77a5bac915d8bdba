// Behaviour profiles of the simulated models (SIMULATED, not real model
// behaviour; docs/backends.md describes each number). A profile turns what
// the request carries (task, image cues, tool responses) into generated
// text. Every draw is keyed by seed + model + image + prompt + label, so a
// request always gets the same answer.
import type { Cue } from '../../domain/scene-cues';
import { SCENES, isScene, isLongAction, isLatAction, type Scene, type LongAction, type LatAction } from '../../domain/enums';
import { FINE_CONFUSION, GT_ACTIONS, PRED_COLUMNS, type FineRow } from '../../domain/published-figures';
import { CHECK_CONFUSION_RISK, CHECK_SCENE_ACTION_COMPATIBILITY, CHECK_SCENE_PRIOR, CHECK_WAYPOINT_FEASIBILITY } from '../../protocol/tools';
import { WAYPOINT_LINE_LABEL } from '../../protocol/prompts';
import { hash32, Rng } from '../../util/rng';
import { DEFAULT_PREDICTOR_ANSWER, formatPredictorAnswer, type PredictorAnswerSpec } from '../../protocol/predictor-answer';
import type { Conversation, ToolAdvice } from './conversation';
import { MALFORMATIONS, toolCallText, type Args } from './tool-call-text';

// 'echo' is scripted, not a model: it answers with the last message's text
// verbatim, so wire checks (curl, tests) can make the server parse any text.
export const PROFILES = ['sceneiq-ft-2b', 'qwen3-vl-2b', 'qwen3-vl-8b', 'echo'] as const;
export type ProfileName = (typeof PROFILES)[number];
export const isProfile = (s: string): s is ProfileName => (PROFILES as readonly string[]).includes(s);

export interface ProfileInput {
  seed: number;
  profile: ProfileName;
  conv: Conversation;
  /** Cues the image shows (empty without an image). */
  seen: ReadonlySet<Cue>;
  imageHash: string;
  /** The predictor's configured answer format; default: the plan's lines. */
  answerFormat?: PredictorAnswerSpec | undefined;
}

/** What the image looks like, before any model-specific perception. */
type VisualClass = 'mounted_police' | 'flagger' | 'flooded' | 'incident' | 'triggers' | 'clean';

function visualClass(seen: ReadonlySet<Cue>): VisualClass {
  if (seen.has('horse')) return 'mounted_police';
  if (seen.has('flagger_vest') || seen.has('flag')) return 'flagger';
  if (seen.has('water')) return 'flooded';
  if (seen.has('emergency_light') || seen.has('crash_debris')) return 'incident';
  if (seen.has('cone') || seen.has('barrier')) return 'triggers';
  return 'clean';
}

// The predictor answers with the fixture's greedy confusion row
// (spec/FIXTURE.md) of the fine class the image looks like, so the
// simulated fine-tuned model over-predicts incident_zone on cones/barriers.
const ROW_OF_CLASS: Record<VisualClass, FineRow> = {
  clean: 'nominal_clean', triggers: 'nominal_triggers', flagger: 'flagger', flooded: 'flooded', incident: 'incident_zone', mounted_police: 'mounted_police',
};
const sceneOfColumn = (c: string): Scene | null => (isScene(c) ? c : null);

// Action pairs observed per scene with their counts (FIXTURE.md co-occurrence).
type ActionRow = readonly [LongAction, LatAction, number];
const ACTIONS = {} as Record<Scene, readonly ActionRow[]>;
for (const scene of SCENES) ACTIONS[scene] = GT_ACTIONS[scene].filter((r): r is ActionRow => isLongAction(r[0]) && isLatAction(r[1]));

function drawActions(scene: Scene, d: Rng): [LongAction, LatAction] {
  const rows = ACTIONS[scene];
  const [l, a] = rows[d.weightedIndex(rows.map((r) => r[2]))]!;
  return [l, a];
}
const typicalActions = (scene: Scene): [LongAction, LatAction] => [ACTIONS[scene][0]![0], ACTIONS[scene][0]![1]];

/** First waypoint (x forward, y left, metres) a model would give for an action. */
function firstWaypoint(long: LongAction | null, lat: LatAction | null, d: Rng): [number, number] {
  const x = long === 'stop' ? 0.15 : long === 'slowdown' ? 1.1 : long === 'proceed' ? 2.4 : 1.9;
  const y = lat === 'lc_left' ? 0.35 : lat === 'lc_right' ? -0.35 : 0;
  const r = (v: number) => Math.round(v * 100) / 100;
  return [r(x * (0.85 + 0.3 * d.next())), r(y + (d.next() - 0.5) * 0.06)];
}

function waypointList(long: LongAction, lat: LatAction, d: Rng): string {
  const [x, y] = firstWaypoint(long, lat, d);
  const decay = long === 'stop' ? 0.5 : long === 'slowdown' ? 0.9 : 1.0;
  const pts: string[] = [];
  let px = 0, py = 0, step = x;
  for (let i = 0; i < 5; i++) {
    px += step;
    py += y;
    step *= decay;
    pts.push(`[${px.toFixed(2)}, ${py.toFixed(2)}]`);
  }
  return `[${pts.join(', ')}]`;
}

// --- verifiers -----------------------------------------------------------

interface VerifierTraits {
  /** Chance to miss each cue that is in the image. */
  missCue: number;
  /** Chance that cones/barriers alone read as incident_zone. */
  triggersAsIncident: number;
  callRate: Record<string, number>;
  malformRate: number;
  unknownToolRate: number;
  forgetFinal: number;
  /** Revise to the oracle's true_scene when it says the prediction is wrong. */
  followOracle: number;
  /** Break a prediction the oracle confirmed. */
  breakConfirmed: number;
  /** Follow a statistical tool's alternative (implausible, doubtful) when the image is not decisive. */
  followAdvice: readonly [number, number];
  /** Chance to trust a decisive image over the tool's advice. */
  trustEyes: number;
  /** Without tool advice, revise to what a decisive image shows. */
  reviseOnSight: number;
  retryAfterError: number;
}

const TRAITS: Record<'qwen3-vl-2b' | 'qwen3-vl-8b', VerifierTraits> = {
  'qwen3-vl-8b': {
    missCue: 0.08, triggersAsIncident: 0.3,
    callRate: { [CHECK_SCENE_PRIOR]: 0.8, [CHECK_CONFUSION_RISK]: 0.8, [CHECK_SCENE_ACTION_COMPATIBILITY]: 0.6, [CHECK_WAYPOINT_FEASIBILITY]: 0.45 },
    malformRate: 0.025, unknownToolRate: 0.005, forgetFinal: 0.015,
    followOracle: 0.97, breakConfirmed: 0.01, followAdvice: [0.55, 0.3], trustEyes: 0.9, reviseOnSight: 0.55, retryAfterError: 0.6,
  },
  'qwen3-vl-2b': {
    missCue: 0.25, triggersAsIncident: 0.6,
    callRate: { [CHECK_SCENE_PRIOR]: 0.65, [CHECK_CONFUSION_RISK]: 0.6, [CHECK_SCENE_ACTION_COMPATIBILITY]: 0.45, [CHECK_WAYPOINT_FEASIBILITY]: 0.3 },
    malformRate: 0.14, unknownToolRate: 0.03, forgetFinal: 0.06,
    followOracle: 0.78, breakConfirmed: 0.05, followAdvice: [0.75, 0.5], trustEyes: 0.35, reviseOnSight: 0.2, retryAfterError: 0.3,
  },
};
const DEFAULT_CALL_RATE = 0.5;

interface Belief {
  scene: Scene;
  /** A decisive cue was seen (not just cones/barriers). */
  decisive: boolean;
}

function believe(seen: ReadonlySet<Cue>, t: VerifierTraits, d: Rng): Belief {
  const perceived = new Set<Cue>();
  for (const c of seen) if (!d.chance(t.missCue)) perceived.add(c);
  switch (visualClass(perceived)) {
    case 'mounted_police': return { scene: 'mounted_police', decisive: true };
    case 'flagger': return { scene: 'flagger', decisive: true };
    case 'flooded': return { scene: 'flooded', decisive: true };
    case 'incident': return { scene: 'incident_zone', decisive: true };
    case 'triggers': return { scene: d.chance(t.triggersAsIncident) ? 'incident_zone' : 'nominal', decisive: false };
    case 'clean': return { scene: 'nominal', decisive: false };
  }
}

// One compiled pattern per label (the labels are constants; exec without
// the g flag keeps no state).
const fieldPatterns = new Map<string, RegExp>();
const field = (text: string, label: string): string | null => {
  let re = fieldPatterns.get(label);
  if (!re) fieldPatterns.set(label, (re = new RegExp(`${label}:\\s*([A-Za-z_]+)`)));
  const m = re.exec(text);
  return m ? m[1]! : null;
};

const SHOWN_WAYPOINT = new RegExp(`${WAYPOINT_LINE_LABEL}: \\((-?[\\d.eE+-]+), (-?[\\d.eE+-]+)\\)`);
/** The first waypoint the verification prompt shows, when it shows one. */
function shownWaypoint(text: string): [number, number] | null {
  const m = SHOWN_WAYPOINT.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function toolArgs(name: string, scene: Scene, long: LongAction, lat: LatAction, d: Rng, shown: [number, number] | null = null): Args {
  switch (name) {
    case CHECK_SCENE_PRIOR:
    case CHECK_CONFUSION_RISK:
      return { predicted_scene: scene };
    case CHECK_SCENE_ACTION_COMPATIBILITY:
      return { scene, long_action: long, lat_action: lat };
    case CHECK_WAYPOINT_FEASIBILITY: {
      // The prompt's waypoint when it shows one; else one made up (the
      // plan's prompt has none to check).
      const [x, y] = shown ?? firstWaypoint(long, lat, d);
      return { scene, long_action: long, first_waypoint_x: x, first_waypoint_y: y };
    }
    default:
      return { scene };
  }
}

const PREAMBLES = [
  'Let me check these predictions with the available tools.',
  'I will verify the prediction before answering.',
  'I need to check whether this prediction is reasonable.',
];

/** One or more tool calls in the model's style; `null` when it decides to call none. */
function writeCalls(names: string[], args: (n: string) => Args, t: VerifierTraits, d: Rng): string {
  const parts: string[] = [d.pick(PREAMBLES)];
  for (const n of names) {
    const bad = d.chance(t.malformRate) ? MALFORMATIONS[Math.floor(d.next() * MALFORMATIONS.length)]! : null;
    parts.push(toolCallText(n, args(n), bad));
    // A truncated call ends the generation: nothing can follow it.
    if (bad === 'truncated') break;
  }
  return parts.join('\n');
}

function chooseTools(offered: string[], t: VerifierTraits, d: Rng): string[] {
  const chosen = offered.filter((n) => d.chance(t.callRate[n] ?? DEFAULT_CALL_RATE));
  if (offered.length > 0 && d.chance(t.unknownToolRate)) chosen.push('check_scene_type');
  return chosen;
}

function worstAdvice(advice: ToolAdvice[]): { verdict: ToolAdvice['verdict']; alternative: Scene | null } {
  const rank = { plausible: 0, doubtful: 1, implausible: 2 } as const;
  let verdict: ToolAdvice['verdict'] = null;
  let alternative: Scene | null = null;
  for (const a of advice) {
    if (a.verdict && (verdict === null || rank[a.verdict] > rank[verdict])) verdict = a.verdict;
    if (!alternative && isScene(a.alternativeScene) && a.verdict !== 'plausible') alternative = a.alternativeScene;
  }
  return { verdict, alternative };
}

/** The verifier's scene after reading the tool responses (or none). */
function decideScene(shown: Scene | null, eyes: Belief, advice: ToolAdvice[], t: VerifierTraits, d: Rng): { scene: Scene; why: string } {
  const oracle = advice.find((a) => a.isCorrect !== null);
  if (oracle) {
    if (oracle.isCorrect === false && isScene(oracle.trueScene) && d.chance(t.followOracle)) return { scene: oracle.trueScene, why: 'the verification tool reported the predicted scene is wrong' };
    if (oracle.isCorrect === true && shown && !d.chance(t.breakConfirmed)) return { scene: shown, why: 'the verification tool confirmed the prediction' };
    if (oracle.isCorrect === true && shown) return { scene: eyes.scene !== shown ? eyes.scene : 'nominal', why: 'the image suggests a different scene' };
  }
  if (!shown) return { scene: eyes.scene, why: 'the original prediction was unparseable; classified from the image' };
  const { verdict, alternative } = worstAdvice(advice);
  if (eyes.decisive && eyes.scene === shown && verdict !== null && verdict !== 'plausible' && d.chance(t.trustEyes)) {
    return { scene: shown, why: `the image clearly shows a ${shown} scene despite the tool's warning` };
  }
  if (verdict === 'implausible' || verdict === 'doubtful') {
    const p = verdict === 'implausible' ? t.followAdvice[0] : t.followAdvice[1];
    if (d.chance(p)) {
      const target = eyes.decisive && eyes.scene !== shown && d.chance(t.trustEyes) ? eyes.scene : alternative ?? eyes.scene;
      if (target !== shown) return { scene: target, why: `the tool flagged ${shown} as ${verdict}` };
    }
    return { scene: shown, why: 'the prediction is consistent with the image' };
  }
  if (eyes.decisive && eyes.scene !== shown && d.chance(t.reviseOnSight)) return { scene: eyes.scene, why: `the image shows a ${eyes.scene} scene` };
  return { scene: shown, why: verdict === 'plausible' ? 'the tools found the prediction plausible' : 'the prediction matches the image' };
}

function forgetful(scene: Scene): string {
  return `Based on the tool results, the scene looks like ${scene.replace('_', ' ')}. I have checked the prediction.`;
}

/** hash32 of `seed|profile|image|prompt`, the start of every verifier
 * draw's key: hashed once and continued per draw (Rng.keyedAfter), the
 * prompt hashed where it lies rather than copied into a joined key. */
const promptKey = (inp: ProfileInput): number => hash32(inp.conv.taskText, hash32(`${inp.seed}|${inp.profile}|${inp.imageHash}|`));

function verify(inp: ProfileInput, t: VerifierTraits): string {
  const { conv } = inp;
  const key = promptKey(inp);
  const eyes = believe(inp.seen, t, Rng.keyedAfter(key, '|eyes'));
  const rawScene = field(conv.taskText, '- Scene type');
  const shown = isScene(rawScene) ? rawScene : null;
  const rawLong = field(conv.taskText, '- Longitudinal action');
  const rawLat = field(conv.taskText, '- Lateral action');
  const argScene = shown ?? eyes.scene;
  const long0: LongAction = isLongAction(rawLong) ? rawLong : typicalActions(argScene)[0];
  const lat0: LatAction = isLatAction(rawLat) ? rawLat : typicalActions(argScene)[1];
  if (conv.advice.length === 0 && conv.assistantTurns === 0) {
    const d = Rng.keyedAfter(key, '|calls');
    const names = chooseTools(conv.offered, t, d);
    const wp = shownWaypoint(conv.taskText);
    if (names.length > 0) return writeCalls(names, (n) => toolArgs(n, argScene, long0, lat0, d, wp), t, d);
  }
  const d = Rng.keyedAfter(key, `|final|${conv.responseTexts.join('\u0001')}`);
  if (conv.advice.some((a) => a.error) && conv.assistantTurns < 2 && conv.offered.length > 0 && d.chance(t.retryAfterError)) {
    const n = conv.offered[0]!;
    return `The tool call failed; let me try again.\n${toolCallText(n, toolArgs(n, argScene, long0, lat0, d), null)}`;
  }
  const { scene, why } = decideScene(shown, eyes, conv.advice, t, d);
  let [long, lat] = [long0, lat0];
  if (scene !== shown) [long, lat] = drawActions(scene, d);
  else if (conv.advice.some((a) => a.verdict === 'implausible' && a.alternativeScene === null) && d.chance(t.followAdvice[0])) [long, lat] = typicalActions(scene);
  if (d.chance(t.forgetFinal)) return forgetful(scene);
  const revised = scene !== shown || long !== rawLong || lat !== rawLat;
  return `FINAL_SCENE: ${scene}\nFINAL_LONG_ACTION: ${long}\nFINAL_LAT_ACTION: ${lat}\nREVISED: ${revised ? 'yes' : 'no'}\nREASON: ${why[0]!.toUpperCase()}${why.slice(1)}.`;
}

function staged(inp: ProfileInput, t: VerifierTraits): string {
  const { conv } = inp;
  const key = promptKey(inp);
  const eyes = believe(inp.seen, t, Rng.keyed(`${inp.seed}|${inp.profile}|${inp.imageHash}|eyes`));
  const d = Rng.keyedAfter(key, `|${conv.responseTexts.join('\u0001')}`);
  const sceneInPrompt = field(conv.taskText, 'The scene is');
  const scene: Scene = isScene(sceneInPrompt) ? sceneInPrompt : eyes.scene;
  const mayCall = conv.advice.length === 0 && conv.assistantTurns === 0;
  const call = (name: string, args: Args) => writeCalls([name], () => args, t, d);
  const { verdict, alternative } = worstAdvice(conv.advice);
  const warned = verdict === 'implausible' || verdict === 'doubtful';
  if (conv.task === 'stageScene') {
    if (mayCall && conv.offered.includes(CHECK_CONFUSION_RISK) && d.chance(t.callRate[CHECK_CONFUSION_RISK] ?? DEFAULT_CALL_RATE)) {
      return call(CHECK_CONFUSION_RISK, { predicted_scene: eyes.scene });
    }
    let s = eyes.scene;
    if (warned && alternative && !(eyes.decisive && d.chance(t.trustEyes)) && d.chance(t.followAdvice[verdict === 'implausible' ? 0 : 1])) s = alternative;
    return d.chance(t.forgetFinal) ? forgetful(s) : `SCENE: ${s}`;
  }
  const rawLong = field(conv.taskText, 'the longitudinal action is');
  if (conv.task === 'stageAction') {
    let [long, lat] = drawActions(scene, Rng.keyedAfter(key, '|actions'));
    if (mayCall && conv.offered.includes(CHECK_SCENE_ACTION_COMPATIBILITY) && d.chance(t.callRate[CHECK_SCENE_ACTION_COMPATIBILITY] ?? DEFAULT_CALL_RATE)) {
      return call(CHECK_SCENE_ACTION_COMPATIBILITY, { scene, long_action: long, lat_action: lat });
    }
    if (warned && d.chance(t.followAdvice[0])) [long, lat] = typicalActions(scene);
    return `LONG_ACTION: ${long}\nLAT_ACTION: ${lat}`;
  }
  const long: LongAction = isLongAction(rawLong) ? rawLong : typicalActions(scene)[0];
  let [x, y] = firstWaypoint(long, 'null', Rng.keyedAfter(key, '|wp'));
  if (mayCall && conv.offered.includes(CHECK_WAYPOINT_FEASIBILITY) && d.chance(t.callRate[CHECK_WAYPOINT_FEASIBILITY] ?? DEFAULT_CALL_RATE)) {
    return call(CHECK_WAYPOINT_FEASIBILITY, { scene, long_action: long, first_waypoint_x: x, first_waypoint_y: y });
  }
  if (warned && d.chance(t.followAdvice[0])) [x, y] = firstWaypoint(typicalActions(scene)[0], 'null', d);
  return `WAYPOINTS: [[${x}, ${y}]]`;
}

function predict(inp: ProfileInput): string {
  const d = Rng.keyed(`${inp.seed}|${inp.profile}|${inp.imageHash}|${inp.conv.taskText}`);
  const scene = sceneOfColumn(PRED_COLUMNS[d.weightedIndex(FINE_CONFUSION[ROW_OF_CLASS[visualClass(inp.seen)]])]!);
  if (!scene) return d.pick(['The image shows a road scene ahead of the vehicle.', 'SCENE: unclear, possibly construction', 'I cannot determine the scene from this image.']);
  const [long, lat] = drawActions(scene, d);
  return formatPredictorAnswer({ scene, longAction: long, latAction: lat, waypoints: waypointList(long, lat, d) }, inp.answerFormat ?? DEFAULT_PREDICTOR_ANSWER);
}

/** The text the simulated model generates for this request. */
export function generate(inp: ProfileInput): string {
  const { task } = inp.conv;
  if (inp.profile === 'echo') return inp.conv.texts.at(-1) ?? '';
  // The fine-tuned predictor answers any image in its own output format,
  // whatever its prompt says (a configured template has no marker).
  if ((inp.profile === 'sceneiq-ft-2b' && inp.imageHash !== 'no-image') || task === 'predict') return predict(inp);
  if (task === 'other') return 'I can help with driving scene analysis. Please provide a dashcam image and the task.';
  if (inp.profile === 'sceneiq-ft-2b') return predict(inp);
  const t = TRAITS[inp.profile];
  return task === 'verify' ? verify(inp, t) : staged(inp, t);
}
