// The figures of shared/spec/FIXTURE.md as data: the greedy baseline's
// published confusion by fine class, the ground-truth action combinations
// and the headline counts. The fixture generator draws its cell assignment
// from them and the simulator's predictor profile reproduces them; the
// fixture checks (data/fixture/published.ts) compare generated files with them.
import type { Scene } from './enums';

/** Prediction columns of the confusion tables, NULL = unparseable. */
export const PRED_COLUMNS = ['nominal', 'flagger', 'flooded', 'incident_zone', 'mounted_police', 'NULL'] as const;
export type PredColumn = (typeof PRED_COLUMNS)[number];

/** Rows by fine class ("NULL" = unlabelled); GT scene of each row. */
export const FINE_ROWS = ['nominal_triggers', 'nominal_clean', 'flagger', 'flooded', 'incident_zone', 'mounted_police', 'NULL'] as const;
export type FineRow = (typeof FINE_ROWS)[number];
export const SCENE_OF_ROW: Record<FineRow, Scene | null> = {
  nominal_triggers: 'nominal', nominal_clean: 'nominal', flagger: 'flagger', flooded: 'flooded', incident_zone: 'incident_zone', mounted_police: 'mounted_police', NULL: null,
};

/** FIXTURE.md confusion, nominal split by fine class (columns as PRED_COLUMNS). */
export const FINE_CONFUSION: Record<FineRow, readonly number[]> = {
  nominal_triggers: [532, 18, 7, 2236, 2, 6],
  nominal_clean: [2755, 2, 2, 1168, 0, 0],
  flagger: [67, 363, 6, 221, 1, 2],
  flooded: [171, 9, 272, 163, 1, 2],
  incident_zone: [103, 39, 5, 166, 8, 1],
  mounted_police: [82, 19, 1, 78, 91, 1],
  NULL: [4, 7, 0, 0, 2, 0],
};

/** GT (long, lat) action combinations and counts per GT scene. */
export const GT_ACTIONS: Record<Scene, ReadonlyArray<readonly [string, string, number]>> = {
  nominal: [['null', 'null', 6728]],
  mounted_police: [['null', 'null', 272]],
  flooded: [['slowdown', 'null', 348], ['stop', 'null', 171], ['proceed', 'null', 99]],
  flagger: [['stop', 'null', 391], ['slowdown', 'null', 190], ['proceed', 'null', 79]],
  incident_zone: [['slowdown', 'null', 107], ['stop', 'null', 72], ['slowdown', 'lc_left', 46], ['proceed', 'null', 32], ['slowdown', 'lc_right', 29], ['stop', 'lc_left', 18], ['proceed', 'lc_left', 9], ['stop', 'lc_right', 5], ['proceed', 'lc_right', 4]],
};

export const PUBLISHED = {
  samples: 8613,
  gt: { nominal: 6728, flagger: 660, flooded: 618, incident_zone: 322, mounted_police: 272, NULL: 13 },
  pred: { incident_zone: 4032, nominal: 3714, flagger: 457, flooded: 293, mounted_police: 105, NULL: 12 },
  accuracyCorrect: 4179,
  accuracy: 0.4852,
  macroF1: 0.4871,
  fineClass: { nominal_triggers: 2801, nominal_clean: 3927 },
  triggersCorrect: 532,
  triggersAccuracy: 0.19,
} as const;
