// Reads what one analysis needs from the experiment database: one query per
// table and experiment, rows in a fixed order so every path (DB or Arrow
// bulk-loaded into memory) sums in the same order and gives identical numbers.
import type { DB } from '../store/db';
import type { StoredExperiment, StoredPrediction, StoredToolCall, StoredTurn } from '../store/rows';
import { TceError } from '../util/errors';
import { VERIFIER_SIZES } from '../domain/enums';
import { BASELINE, CONDITION_NAMES, ORACLE } from '../protocol/conditions';
import { isFailedStatus } from '../protocol/definitions';
import { allRows } from '../store/row-objects';

// The columns the analysis reads, picked from the table declarations.
export type ExperimentInfo = Pick<StoredExperiment, 'experiment_id' | 'condition_name' | 'pipeline' | 'verifier_size' | 'backend' | 'synthetic' | 'created_at' | 'status'
  | 'total_samples' | 'total_wall_time_s' | 'throughput_samples_per_s' | 'tools_enabled' | 'tool_stats_mode' | 'tool_stats_sha256'
  | 'suite_id' | 'suite_samples' | 'shard'>;

/** original_waypoints_json is read for the baseline only (the rule
 * comparators' input: rule-baselines.ts) and null in every other
 * experiment's rows: each is a text lookup per row, ~a third of the
 * analysis's reading on a default run. */
export type PredictionRow = Pick<StoredPrediction, 'sample_id' | 'scene_type_gt' | 'fine_class' | 'original_scene' | 'original_long_action'
  | 'original_lat_action' | 'final_scene' | 'final_long_action' | 'final_lat_action' | 'long_action_gt' | 'lat_action_gt' | 'final_status'
  | 'predict_time_ms' | 'verify_time_ms' | 'total_time_ms' | 'original_waypoints_json'>;

export type ToolCallRow = Pick<StoredToolCall, 'sample_id' | 'tool_name' | 'tool_result_json' | 'model_revised_after' | 'call_status' | 'parsed'
  | 'known_tool' | 'required_args_present' | 'schema_valid' | 'executed_ok'>;

export type TurnRow = Pick<StoredTurn, 'ttft_ms' | 'decode_ms' | 'e2e_ms' | 'queue_wait_ms' | 'prompt_tokens' | 'completion_tokens'>;

export interface ExperimentData {
  info: ExperimentInfo;
  /** Samples with an answer (failed samples are not here: see failed). */
  predictions: PredictionRow[];
  /** Sample ids whose requests failed: no answer, in no metric. */
  failed: Array<{ sample_id: number; final_status: string | null }>;
  toolCalls: ToolCallRow[];
  turns: TurnRow[];
}

/** Report order: the condition table's; unknown names last. */
export const CONDITION_ORDER: readonly string[] = CONDITION_NAMES;

/** Then no size, 2B, 8B; unknown sizes last. */
function rank(e: ExperimentInfo): [number, number] {
  const c = CONDITION_ORDER.indexOf(e.condition_name);
  const size = (VERIFIER_SIZES as readonly string[]).indexOf(e.verifier_size ?? '');
  const s = e.verifier_size === null ? 0 : size < 0 ? VERIFIER_SIZES.length + 1 : size + 1;
  return [c < 0 ? CONDITION_ORDER.length : c, s];
}

/** The suite an experiment belongs to: the run timestamp that ends its id
 * (tc_{condition}_{size}_{YYYYMMDD_HHMMSS}); every experiment of one
 * `tce run` shares it, a resumed run keeps it. Ids of another shape
 * (made by hand or by other tools) form one unnamed suite, "". */
export function suiteOf(experimentId: string): string {
  return /_(\d{8}[_T]\d{6})$/.exec(experimentId)?.[1] ?? '';
}

/** The suite of an experiment: its stored suite id, else from its id. */
export function suiteKey(e: Pick<ExperimentInfo, 'experiment_id' | 'suite_id'>): string {
  return e.suite_id ?? suiteOf(e.experiment_id);
}

/** The experiments to analyse, in report order: those with at least one
 * prediction (an experiment that has just started has nothing to say).
 * Without explicit ids, the newest suite is taken and only its experiments
 * (the newest of each condition and size within it): results of two
 * suites, run with different data or settings, are never compared. */
export function selectExperiments(db: DB, ids?: string[]): ExperimentInfo[] {
  const all = db.prepare(`SELECT experiment_id, condition_name, pipeline, verifier_size, backend, synthetic, created_at, status,
      total_samples, total_wall_time_s, throughput_samples_per_s, tools_enabled, tool_stats_mode, tool_stats_sha256, suite_id, suite_samples, shard FROM experiments e
      WHERE EXISTS (SELECT 1 FROM predictions p WHERE p.experiment_id = e.experiment_id)
      ORDER BY created_at, experiment_id`).all() as ExperimentInfo[];
  let chosen: ExperimentInfo[];
  if (ids && ids.length) {
    chosen = ids.map((id) => {
      const e = all.find((x) => x.experiment_id === id);
      if (!e) throw new TceError('NO_EXPERIMENT', `${db.name}: experiments: no experiment_id '${id}' with predictions`, 'list them with `tce analyze` (no ids)');
      return e;
    });
  } else {
    // Newest = loaded last; suites loaded in the same second: the later run.
    let suite: string | null = null, at = '';
    for (const e of all) {
      const sx = suiteKey(e);
      if (suite === null || e.created_at > at || (e.created_at === at && sx > suite)) { suite = sx; at = e.created_at; }
    }
    const newest = new Map<string, ExperimentInfo>();
    for (const e of all) if (suiteKey(e) === suite) newest.set(`${e.condition_name}\u0000${e.verifier_size ?? ''}`, e);
    chosen = [...newest.values()];
  }
  return chosen.sort((a, b) => {
    const ra = rank(a), rb = rank(b);
    return ra[0] - rb[0] || ra[1] - rb[1] || a.condition_name.localeCompare(b.condition_name);
  });
}

/** `waypoints`: read original_waypoints_json (else null: see PredictionRow). */
export function loadExperiment(db: DB, info: ExperimentInfo, opts: { waypoints: boolean }): ExperimentData {
  const id = info.experiment_id;
  const all = allRows<PredictionRow>(db.prepare(`SELECT sample_id, scene_type_gt, fine_class, original_scene, original_long_action, original_lat_action,
      final_scene, final_long_action, final_lat_action, long_action_gt, lat_action_gt, final_status,
      predict_time_ms, verify_time_ms, total_time_ms, ${opts.waypoints ? 'original_waypoints_json' : 'NULL AS original_waypoints_json'}
      FROM predictions_full WHERE experiment_id = ? ORDER BY sample_id`), id);
  const answered = all.filter((p) => !isFailedStatus(p.final_status));
  const toolCalls = allRows<ToolCallRow>(db.prepare(`SELECT sample_id, tool_name, tool_result_json, model_revised_after, call_status, parsed, known_tool,
      required_args_present, schema_valid, executed_ok
      FROM tool_calls_full WHERE experiment_id = ? ORDER BY sample_id, tool_call_order`), id);
  const turns = allRows<TurnRow>(db.prepare(`SELECT ttft_ms, decode_ms, e2e_ms, queue_wait_ms, prompt_tokens, completion_tokens
      FROM turns WHERE experiment_id = ? ORDER BY sample_id, turn_index`), id);
  // A failed sample's tool calls (from turns before the failure) belong to
  // no answer either.
  const failed = all.filter((p) => isFailedStatus(p.final_status)).map((p) => ({ sample_id: p.sample_id, final_status: p.final_status }));
  const gone = new Set(failed.map((f) => f.sample_id));
  return { info, predictions: answered, failed, toolCalls: gone.size ? toolCalls.filter((c) => !gone.has(c.sample_id)) : toolCalls, turns };
}

/** A tool response's verdict, or null when it has none or is not JSON
 * (malformed responses are data, not errors). */
export function verdictOf(resultJson: string | null): string | null {
  if (!resultJson) return null;
  try {
    const v = (JSON.parse(resultJson) as { verdict?: unknown }).verdict;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

export function isWarning(verdict: string | null): boolean {
  return verdict === 'doubtful' || verdict === 'implausible';
}
