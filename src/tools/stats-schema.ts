// The on-disk shape of tool_stats.json, as one zod schema: the loader
// validates every file against it, and the TypeScript types come from it.
// Rates are stored as counts over denominators ({count, of}) so the file
// never carries a rounded number that disagrees with its own counts.
import { z } from 'zod';
import { LAT_ACTIONS, LONG_ACTIONS, SCENES, type Scene } from '../domain/enums';

export const STATS_FORMAT = 'tce-tool-stats/1';

/** Prediction columns: the five scenes plus greedy outputs that did not parse. */
export const PRED_COLUMNS = [...SCENES, 'unparsed'] as const;
export type PredColumn = (typeof PRED_COLUMNS)[number];

const count = z.int().nonnegative();

function sceneRecord<T extends z.ZodType>(value: T) {
  return z.strictObject(Object.fromEntries(SCENES.map((s) => [s, value])) as Record<Scene, T>);
}
const predRecord = z.strictObject(Object.fromEntries(PRED_COLUMNS.map((s) => [s, count])) as Record<PredColumn, typeof count>);

export const RatioSchema = z.strictObject({ count, of: count });
export type Ratio = z.infer<typeof RatioSchema>;

const SceneRatioSchema = z.strictObject({ scene: z.enum(SCENES), count, of: count });

export const ClassStatsSchema = z.strictObject({
  /** GT count over all samples (the plan's CLASS_FREQUENCIES use 8,613). */
  baseRate: RatioSchema,
  /** Greedy predictions of this class over all samples with a greedy row. */
  predictedRate: RatioSchema,
  /** P(gt = c | pred = c) among labelled samples predicted c. */
  precision: RatioSchema,
  /** P(pred = c | gt = c). */
  recall: RatioSchema,
  /** Given pred = c, the wrong GT class seen most often: P(gt = g | pred = c). */
  mostLikelyTrueWhenWrong: SceneRatioSchema.nullable(),
  /** Given gt = c, the wrong predicted class seen most often: P(pred = x | gt = c). */
  mostOftenMistakenFor: SceneRatioSchema.nullable(),
});
export type ClassStats = z.infer<typeof ClassStatsSchema>;

export const SummarySchema = z.strictObject({
  mean: z.number(), std: z.number(), p1: z.number(), p5: z.number(), p50: z.number(), p95: z.number(), p99: z.number(),
});
export type Summary = z.infer<typeof SummarySchema>;

export const WaypointStatsSchema = z.strictObject({
  scene: z.enum(SCENES),
  longAction: z.enum(LONG_ACTIONS),
  count: count.min(1),
  x: SummarySchema,
  y: SummarySchema,
});
export type WaypointStats = z.infer<typeof WaypointStatsSchema>;

export const ActionCountSchema = z.strictObject({ longAction: z.enum(LONG_ACTIONS), latAction: z.enum(LAT_ACTIONS), count: count.min(1) });
export type ActionCount = z.infer<typeof ActionCountSchema>;

export const StatsTableSchema = z.strictObject({
  /** Samples this table was computed from. */
  samples: count,
  /** Of those, samples with a GT scene. */
  labelled: count,
  /** Of those, samples with a greedy prediction row (parsed or not). */
  withPrediction: count,
  sceneGtCounts: sceneRecord(count),
  scenePredCounts: predRecord,
  /** GT row -> predicted column, labelled samples with a greedy row. */
  confusion: sceneRecord(predRecord),
  classes: sceneRecord(ClassStatsSchema),
  /** GT (long, lat) combinations per GT scene, most frequent first. */
  cooccurrence: sceneRecord(z.array(ActionCountSchema)),
  /** First GT waypoint per (GT scene, GT long action), in enum order. */
  waypoints: z.array(WaypointStatsSchema),
});
export type StatsTable = z.infer<typeof StatsTableSchema>;

export const ToolStatsSchema = z.strictObject({
  format: z.literal(STATS_FORMAT),
  source: z.strictObject({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
  sampleCount: count,
  mode: z.string().regex(/^(in_sample|cross_fit_\d+)$/, 'expected "in_sample" or "cross_fit_K"'),
  /** Statistics over every sample (what the plan's tools use). */
  all: StatsTableSchema,
  /** K-fold statistics: tables[f] excludes the samples of fold f. */
  crossFit: z.strictObject({
    k: z.int().min(2),
    seed: z.int(),
    /** Ascending sample ids, aligned with `folds`. */
    sampleIds: z.array(z.int()),
    folds: z.array(z.int().nonnegative()),
    tables: z.array(StatsTableSchema),
  }).nullable(),
});
export type ToolStats = z.infer<typeof ToolStatsSchema>;
export type StatsMode = 'in_sample' | `cross_fit_${number}`;
