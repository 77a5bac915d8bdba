// The predictor's answer format, from config (prompts.predictor): a real
// fine-tuned checkpoint answers in whatever format it was trained on, so its
// keys, its layout (KEY: value lines or one JSON object) and its value
// spellings are declared, not assumed. The same spec writes the simulated
// predictor's answers (here) and reads the answers (src/extract), so a
// simulated run exercises the configured parser.

export interface PredictorAnswerSpec {
  format: 'lines' | 'json';
  keys: { scene: string; longAction: string; latAction: string; waypoints: string | null };
  /** The checkpoint's spelling -> ours (before the usual normalisation). */
  values: Record<string, string>;
}

/** The plan's format: SCENE / LONG_ACTION / LAT_ACTION / WAYPOINTS lines. */
export const DEFAULT_PREDICTOR_ANSWER: PredictorAnswerSpec = {
  format: 'lines',
  keys: { scene: 'SCENE', longAction: 'LONG_ACTION', latAction: 'LAT_ACTION', waypoints: 'WAYPOINTS' },
  values: {},
};

/** The spec from the config's prompts.predictor section. */
export function predictorAnswerSpec(p: { format: PredictorAnswerSpec['format']; keys: PredictorAnswerSpec['keys']; values: Record<string, string> }): PredictorAnswerSpec {
  return { format: p.format, keys: { ...p.keys }, values: { ...p.values } };
}

export interface PredictorValues {
  scene: string;
  longAction: string;
  latAction: string;
  /** The list as JSON text, [[x, y], ...]. */
  waypoints: string;
}

/** Writes an answer in the configured format (the simulated predictor's
 * output), using the checkpoint's spellings where the spec maps them. */
export function formatPredictorAnswer(v: PredictorValues, spec: PredictorAnswerSpec): string {
  const theirs = (ours: string): string => Object.entries(spec.values).find(([, o]) => o === ours)?.[0] ?? ours;
  const k = spec.keys;
  const fields: Array<[string, string]> = [[k.scene, theirs(v.scene)], [k.longAction, theirs(v.longAction)], [k.latAction, theirs(v.latAction)]];
  if (k.waypoints !== null) fields.push([k.waypoints, v.waypoints]);
  if (spec.format === 'json') return JSON.stringify(Object.fromEntries(fields.map(([key, val]) => [key, key === k.waypoints ? JSON.parse(val) as unknown : val])));
  return fields.map(([key, val]) => `${key}: ${val}`).join('\n');
}
