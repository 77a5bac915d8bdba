// Which predictions Pipeline A verifies and counts flips against. A suite
// that runs the baseline verifies its own baseline: the greedy predictions
// when reused, the live predictor's when run live (the baseline phase then
// runs first). A suite without the baseline (`tce verify` after
// `tce predict`, the plan's Phases 2 and 3) verifies the newest live
// baseline in the database, or the greedy predictions when there is none;
// `--predictions greedy|EXPERIMENT_ID` chooses explicitly.
import fs from 'node:fs';
import type { GreedyPrediction, Sample } from '../domain/sample';
import { isLatAction, isLongAction, isScene } from '../domain/enums';
import type { StoredPrediction } from '../store/rows';
import { readRunPredictions } from '../store/run-reader';
import { openDb } from '../store/db';
import { TceError } from '../util/errors';

/** What the suite verifies: 'greedy' (self_consistency.db), 'live' (this
 * suite's own live baseline), or `live:<experiment id>` from the database. */
export type PredictionSource = 'greedy' | 'live' | `live:${string}`;

const COLUMNS = ['sample_id', 'original_scene', 'original_long_action', 'original_lat_action', 'original_waypoints_json', 'original_generated_text'] as const;
type Rows = Array<Pick<StoredPrediction, (typeof COLUMNS)[number]>>;

function waypointsOf(v: string | null): Array<[number, number]> | null {
  if (v === null) return null;
  try {
    return JSON.parse(v) as Array<[number, number]>;
  } catch {
    return null;
  }
}

/** A live baseline's prediction rows as the predictions to verify. */
export function predictionsFromRows(rows: Rows): Map<number, GreedyPrediction> {
  const out = new Map<number, GreedyPrediction>();
  for (const r of rows) {
    const id = r.sample_id;
    const s = r.original_scene, l = r.original_long_action, a = r.original_lat_action;
    out.set(id, {
      sampleId: id,
      scene: typeof s === 'string' && isScene(s) ? s : null,
      longAction: typeof l === 'string' && isLongAction(l) ? l : null,
      latAction: typeof a === 'string' && isLatAction(a) ? a : null,
      waypoints: waypointsOf(r.original_waypoints_json),
      generatedText: r.original_generated_text ?? '',
    });
  }
  return out;
}


/** The predictions of a run directory (this suite's live baseline). */
export function predictionsFromRunDir(dir: string): Map<number, GreedyPrediction> {
  const p = readRunPredictions(dir).predictions;
  const rows: Rows = [];
  for (let i = 0; i < p.length; i++) rows.push(Object.fromEntries(COLUMNS.map((c) => [c, p.columns[c][i] ?? null])) as Rows[number]);
  return predictionsFromRows(rows);
}

/** A live baseline from the database: the one named, or the newest
 * completed one (null when there is none). */
export function predictionsFromDb(dbFile: string, experimentId: string | null): { experimentId: string; predictions: Map<number, GreedyPrediction> } | null {
  if (!fs.existsSync(dbFile)) {
    if (experimentId === null) return null;
    throw new TceError('PREDICTIONS_MISSING', `--predictions ${experimentId}: the database ${dbFile} does not exist`, 'run `tce predict` first, or pass --predictions greedy');
  }
  const db = openDb(dbFile);
  try {
    const exp = experimentId === null
      ? db.prepare("SELECT experiment_id FROM experiments WHERE condition_name = 'baseline' AND backend IS NOT NULL AND backend != 'reused-greedy' AND status = 'completed' ORDER BY experiment_id DESC LIMIT 1").get() as { experiment_id: string } | undefined
      : db.prepare("SELECT experiment_id FROM experiments WHERE experiment_id = ? AND condition_name = 'baseline'").get(experimentId) as { experiment_id: string } | undefined;
    if (!exp) {
      if (experimentId === null) return null;
      throw new TceError('PREDICTIONS_MISSING', `--predictions ${experimentId}: ${dbFile} has no baseline experiment with that id`, 'list them with `sqlite3 DB "select experiment_id from experiments where condition_name=\'baseline\'"`');
    }
    const rows = db.prepare(`SELECT ${COLUMNS.join(', ')} FROM predictions_full WHERE experiment_id = ?`).all(exp.experiment_id) as Rows;
    return { experimentId: exp.experiment_id, predictions: predictionsFromRows(rows) };
  } finally {
    db.close();
  }
}

/** Every selected sample must have a prediction to verify. */
export function requireCoverage(source: string, predictions: Map<number, GreedyPrediction>, samples: readonly Sample[]): void {
  const missing = samples.filter((s) => !predictions.has(s.sampleId)).map((s) => s.sampleId);
  if (missing.length === 0) return;
  const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, ... (${missing.length} in all)` : '');
  throw new TceError('PREDICTIONS_MISSING', `the predictions to verify (${source}) have no row for sample(s) ${shown}`, 'run `tce predict` with the same --limit/--shard, or pass --predictions greedy');
}
