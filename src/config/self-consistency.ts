// The self_consistency.db mapping: which of our columns a database must
// have, which it may lack, and how its label spellings become our enums.
// One list serves the config schema (validation, docs/config.md) and the
// importer (src/data/self-consistency.ts), so the two cannot disagree.
import { z } from 'zod';
import { LAT_ACTIONS, LONG_ACTIONS, SCENES } from '../domain/enums';
import { results } from './effects';

/** required: never absent (null is refused); expected: in the table unless
 * the mapping says null; optional: read when present under its name. */
export type ScNeed = 'required' | 'expected' | 'optional';
/** Which enum a label column holds (its value map in `values`). */
export type ScLabel = 'scene' | 'long_action' | 'lat_action';

interface ScColumnSpec {
  need: ScNeed;
  label?: ScLabel;
  doc: string;
  /** Why a required column cannot be declared absent. */
  why?: string;
}

/** Our column names, which are also the default layout (what `tce synth` writes). */
export const SC_COLUMNS = {
  experiment_id: { need: 'optional', doc: 'run of the predictor (\'greedy\' in the fixture); absent = the whole table is the baseline' },
  sample_id: { need: 'required', doc: 'integer sample id', why: 'each row is one sample, joined to the dataset by it' },
  chum_uri: { need: 'optional', doc: 'source URI of the clip' },
  scene_type_gt: { need: 'required', label: 'scene', doc: 'ground-truth scene (NULL = unlabelled)', why: 'the tools\' class priors and confusion matrix are computed from it' },
  long_action_gt: { need: 'expected', label: 'long_action', doc: 'ground-truth longitudinal action' },
  lat_action_gt: { need: 'expected', label: 'lat_action', doc: 'ground-truth lateral action' },
  fine_class: { need: 'optional', doc: 'fine class' },
  odd_label: { need: 'optional', doc: 'operational design domain label' },
  location: { need: 'optional', doc: 'location' },
  waypoints_gt: { need: 'expected', doc: 'ground-truth waypoints, JSON [[x, y], ...]' },
  predicted_scene: { need: 'required', label: 'scene', doc: 'the greedy predicted scene (NULL = unparseable)', why: 'it is the baseline every condition is compared with' },
  predicted_long_action: { need: 'expected', label: 'long_action', doc: 'the greedy predicted longitudinal action' },
  predicted_lat_action: { need: 'expected', label: 'lat_action', doc: 'the greedy predicted lateral action' },
  predicted_waypoints: { need: 'expected', doc: 'the greedy predicted waypoints, JSON [[x, y], ...]' },
  generated_text: { need: 'expected', doc: 'the predictor\'s raw output (absent: stored as NULL)' },
} as const satisfies Record<string, ScColumnSpec>;
export type ScColumn = keyof typeof SC_COLUMNS;
export const SC_COLUMN_NAMES = Object.keys(SC_COLUMNS) as ScColumn[];

export const SC_LABEL_ENUMS = { scene: SCENES, long_action: LONG_ACTIONS, lat_action: LAT_ACTIONS } as const;

const NEED_DOC: Record<ScNeed, string> = {
  required: 'required (null is refused)',
  expected: 'null = this database has none',
  optional: 'read when the table has it; null = ignore it',
};

function columnField(name: ScColumn): z.ZodType {
  const spec: ScColumnSpec = SC_COLUMNS[name];
  const theirs = spec.need === 'required'
    ? z.string({ error: (iss) => (iss.input === null ? `${name} cannot be null: ${spec.why}` : undefined) })
    : z.string().nullable();
  return results(theirs.optional().describe(`${spec.doc}; ${NEED_DOC[spec.need]}`));
}

const valueMap = (label: ScLabel) => results(z.record(z.string(), z.enum(SC_LABEL_ENUMS[label]).nullable()).default({})
  .describe(`the database's spellings -> ours (${SC_LABEL_ENUMS[label].join(', ')}; null = missing); values already ours need no entry`));

export const SelfConsistencySchema = z.strictObject({
  table: results(z.string().default('predictions').describe('table holding the greedy predictions and ground truth')),
  experimentId: results(z.string().optional().describe('experiment_id of the greedy run when the table holds several')),
  columns: z.strictObject(Object.fromEntries(SC_COLUMN_NAMES.map((n) => [n, columnField(n)])) as Record<ScColumn, z.ZodOptional<z.ZodNullable<z.ZodString>>>)
    .prefault({}).describe('our column name -> theirs, only where they differ (unset = our name; SQLite matches names case-insensitively)'),
  values: z.strictObject({
    scene: valueMap('scene'),
    long_action: valueMap('long_action'),
    lat_action: valueMap('lat_action'),
  }).prefault({}).describe('value maps per label kind, applied to the ground-truth and the predicted column of that kind'),
}).prefault({}).describe('where the importer finds the greedy baseline in self_consistency.db, and how to read it (docs/data.md)');
export type SelfConsistencyConfig = z.infer<typeof SelfConsistencySchema>;
