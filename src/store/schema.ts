import { PREDICTIONS, TOOL_CALLS, TURNS, declaredMigrationSql, fullViewSql, rebuildTableSql, type TableDecl, type TableLayout } from './tables';

// The experiment database. Migration 1 is the plan's schema verbatim
// (spec 000, "SQLite Schema Design"); later migrations only add tables and
// columns, never rename the plan's, so the plan's validation commands keep
// working on every version.

export const PLAN_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    description TEXT,
    condition_name TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    predictor_model TEXT,
    verifier_model TEXT,
    tools_enabled TEXT,
    temperature_predict REAL DEFAULT 0.0,
    temperature_verify REAL DEFAULT 0.0,
    seed INTEGER DEFAULT 42,
    total_samples INTEGER,
    total_wall_time_s REAL,
    predict_wall_time_s REAL,
    verify_wall_time_s REAL,
    throughput_samples_per_s REAL,
    status TEXT NOT NULL DEFAULT 'running'
);

CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id TEXT NOT NULL REFERENCES experiments(experiment_id),
    sample_id INTEGER NOT NULL,
    chum_uri TEXT,
    original_scene TEXT,
    original_long_action TEXT,
    original_lat_action TEXT,
    original_generated_text TEXT,
    original_scene_correct INTEGER,
    final_scene TEXT,
    final_long_action TEXT,
    final_lat_action TEXT,
    final_generated_text TEXT,
    final_scene_correct INTEGER,
    was_revised INTEGER,
    scene_was_revised INTEGER,
    revision_reason TEXT,
    scene_type_gt TEXT,
    long_action_gt TEXT,
    lat_action_gt TEXT,
    odd_label TEXT,
    fine_class TEXT,
    location TEXT,
    original_flipped_correct INTEGER,
    original_flipped_incorrect INTEGER,
    predict_time_ms REAL,
    verify_time_ms REAL,
    total_time_ms REAL,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE(experiment_id, sample_id)
);

CREATE INDEX IF NOT EXISTS idx_predictions_exp ON predictions(experiment_id);
CREATE INDEX IF NOT EXISTS idx_predictions_revised ON predictions(experiment_id, was_revised);
CREATE INDEX IF NOT EXISTS idx_predictions_flip ON predictions(original_flipped_correct, original_flipped_incorrect);

CREATE TABLE IF NOT EXISTS tool_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id TEXT NOT NULL,
    sample_id INTEGER NOT NULL,
    tool_call_order INTEGER NOT NULL,
    tool_name TEXT NOT NULL,
    tool_arguments_json TEXT,
    tool_result_json TEXT,
    model_revised_after INTEGER,
    revised_field TEXT,
    old_value TEXT,
    new_value TEXT,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE(experiment_id, sample_id, tool_call_order)
);

CREATE INDEX IF NOT EXISTS idx_tool_calls_exp ON tool_calls(experiment_id, sample_id);
CREATE INDEX IF NOT EXISTS idx_tool_calls_name ON tool_calls(tool_name);
CREATE INDEX IF NOT EXISTS idx_tool_calls_revised ON tool_calls(model_revised_after);

CREATE TABLE IF NOT EXISTS condition_metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id TEXT NOT NULL,
    scene_accuracy REAL,
    scene_macro_f1 REAL,
    n_revised INTEGER,
    revision_rate REAL,
    revision_accuracy REAL,
    n_saves INTEGER,
    n_breaks INTEGER,
    net_improvement INTEGER,
    tool_prior_call_count INTEGER,
    tool_prior_revision_rate REAL,
    tool_confusion_call_count INTEGER,
    tool_confusion_revision_rate REAL,
    tool_scene_action_call_count INTEGER,
    tool_scene_action_revision_rate REAL,
    tool_waypoint_call_count INTEGER,
    tool_waypoint_revision_rate REAL,
    mean_predict_time_ms REAL,
    mean_verify_time_ms REAL,
    mean_total_time_ms REAL,
    p95_total_time_ms REAL,
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE(experiment_id)
);
`;

export interface Migration {
  version: number;
  description: string;
  sql: string;
  /** It rebuilds tables: the old copies' pages are left free (see migrate). */
  compact?: true;
}

// Migration 2 adds tce's own columns and tables, derived from the run
// tables' declarations (tables.ts), and these two for the plan's own
// validation command (condition_metrics is the analysis's table).
const CONDITION_METRICS_LABELS = ['condition_name TEXT', 'verifier_size TEXT'];

// Migration 3 (analysis, src/analysis/write-tables.ts fills these): the
// plan's condition_metrics keeps its columns; what the analysis adds goes
// beside them, and breakdowns get their own long-format tables.
const ANALYSIS_COLUMNS = [
  'pipeline TEXT', 'n_samples INTEGER', 'n_labelled INTEGER', 'n_unlabelled INTEGER', 'n_unparseable INTEGER', 'n_correct INTEGER',
  'scene_accuracy_labelled REAL', 'scene_accuracy_ci_low REAL', 'scene_accuracy_ci_high REAL',
  'scene_macro_f1_ci_low REAL', 'scene_macro_f1_ci_high REAL',
  'accuracy_diff REAL', 'accuracy_diff_ci_low REAL', 'accuracy_diff_ci_high REAL',
  'macro_f1_diff REAL', 'macro_f1_diff_ci_low REAL', 'macro_f1_diff_ci_high REAL', 'within_noise INTEGER',
  'mcnemar_p REAL', 'flip_reference TEXT', 'n_scene_revised INTEGER',
  'long_action_accuracy REAL', 'lat_action_accuracy REAL', 'action_accuracy REAL',
  'tool_calls_total INTEGER', 'tool_calls_parsed INTEGER', 'tool_calls_known_tool INTEGER', 'tool_calls_required_args INTEGER',
  'tool_calls_schema_valid INTEGER', 'tool_calls_executed_ok INTEGER', 'tool_calls_valid INTEGER',
  'n_warned_samples INTEGER', 'n_warned_revised INTEGER',
  'p50_total_time_ms REAL', 'p99_total_time_ms REAL', 'mean_ttft_ms REAL', 'p95_ttft_ms REAL', 'share_total_under_5s REAL',
  'throughput_samples_per_s REAL', 'bootstrap_resamples INTEGER', 'bootstrap_seed INTEGER',
];

const ANALYSIS_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS condition_class_metrics (
    experiment_id TEXT NOT NULL, breakdown TEXT NOT NULL, class_name TEXT NOT NULL,
    n INTEGER, n_correct INTEGER, accuracy REAL, n_predicted INTEGER, precision REAL, recall REAL, f1 REAL,
    baseline_correct INTEGER, n_saves INTEGER, n_breaks INTEGER,
    PRIMARY KEY (experiment_id, breakdown, class_name)
);
CREATE TABLE IF NOT EXISTS condition_confusion (
    experiment_id TEXT NOT NULL, gt_scene TEXT NOT NULL, pred_scene TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, gt_scene, pred_scene)
);
CREATE TABLE IF NOT EXISTS condition_tool_metrics (
    experiment_id TEXT NOT NULL, tool_name TEXT NOT NULL, n_calls INTEGER, n_samples_called INTEGER,
    p_revise_given_tool REAL, mean_revised_after REAL, n_warnings INTEGER, n_warned_samples_ignored INTEGER,
    PRIMARY KEY (experiment_id, tool_name)
);
CREATE TABLE IF NOT EXISTS condition_latency (
    experiment_id TEXT NOT NULL, measure TEXT NOT NULL, n INTEGER, mean REAL,
    p10 REAL, p25 REAL, p40 REAL, p50 REAL, p95 REAL, p99 REAL, share_under_5s REAL, max REAL,
    PRIMARY KEY (experiment_id, measure)
);
CREATE TABLE IF NOT EXISTS condition_status_counts (
    experiment_id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, kind, status)
);
CREATE TABLE IF NOT EXISTS size_comparison (
    condition_name TEXT PRIMARY KEY, experiment_id_2b TEXT, experiment_id_8b TEXT,
    macro_f1_2b REAL, macro_f1_8b REAL, macro_f1_diff REAL, macro_f1_diff_ci_low REAL, macro_f1_diff_ci_high REAL,
    only_8b_right INTEGER, only_2b_right INTEGER, mcnemar_p REAL, significant INTEGER
);
CREATE TABLE IF NOT EXISTS analysis_decision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    created_at TEXT NOT NULL DEFAULT (datetime('now')),
    synthetic INTEGER, gate_threshold REAL, gate_passed INTEGER, outcome INTEGER, outcome_title TEXT,
    size_matters INTEGER, recommendation TEXT, bootstrap_resamples INTEGER, bootstrap_seed INTEGER, decision_json TEXT
);
`;

// Migration 4 (viewer, src/view/suite-data.ts): the suite page groups each
// condition's predictions by these columns; with them in one index it reads
// the index alone instead of the wide rows (the generated texts).
const VIEW_INDEXES_SQL = `
CREATE INDEX IF NOT EXISTS idx_predictions_view ON predictions(experiment_id, scene_type_gt, final_scene, original_scene, final_status);
`;

// Migration 5 (attribution, src/analysis/claims.ts and rule-baselines.ts):
// what each tool condition is compared with. Rule comparators apply each
// tool's verdict to the greedy predictions with no model; informativeness
// asks whether a tool's warnings pick out wrong originals; every claim of
// the decision is one row per comparison.
const ATTRIBUTION_TOOL_COLUMNS = [
  'n_answered_warned INTEGER', 'n_warned_original_wrong INTEGER', 'p_wrong_given_warned REAL', 'p_wrong_given_warned_ci_low REAL', 'p_wrong_given_warned_ci_high REAL',
  'n_answered_not_warned INTEGER', 'n_not_warned_original_wrong INTEGER', 'p_wrong_given_not_warned REAL', 'p_wrong_given_not_warned_ci_low REAL', 'p_wrong_given_not_warned_ci_high REAL',
  'p_wrong_diff_ci_low REAL', 'p_wrong_diff_ci_high REAL', 'informative INTEGER',
];
const ATTRIBUTION_METRIC_COLUMNS = [
  'role TEXT', 'derived_from TEXT', 'n_vs_baseline INTEGER', 'n_left_out_vs_baseline INTEGER',
  'within_noise_accuracy INTEGER', 'within_noise_macro_f1 INTEGER',
];
const ATTRIBUTION_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS rule_baselines (
    rule TEXT PRIMARY KEY, tools_json TEXT NOT NULL, baseline_experiment_id TEXT,
    n_samples INTEGER, n_correct INTEGER, scene_accuracy REAL, scene_macro_f1 REAL,
    scene_accuracy_ci_low REAL, scene_accuracy_ci_high REAL, scene_macro_f1_ci_low REAL, scene_macro_f1_ci_high REAL,
    saves INTEGER, breaks INTEGER, net INTEGER, n_changed INTEGER, tool_stats_mode TEXT
);
CREATE TABLE IF NOT EXISTS rule_baseline_scene (
    rule TEXT NOT NULL, scene TEXT NOT NULL, n INTEGER, n_correct INTEGER, saves INTEGER, breaks INTEGER,
    PRIMARY KEY (rule, scene)
);
CREATE TABLE IF NOT EXISTS decision_comparisons (
    family TEXT NOT NULL, subject TEXT NOT NULL, arm_a TEXT NOT NULL, arm_b TEXT NOT NULL, n_samples INTEGER, left_out_json TEXT,
    macro_f1_a REAL, macro_f1_b REAL, macro_f1_diff REAL, macro_f1_diff_ci_low REAL, macro_f1_diff_ci_high REAL,
    p_bootstrap REAL, p_holm REAL, verdict TEXT, claim_holds INTEGER, claim_missing TEXT,
    accuracy_a REAL, accuracy_b REAL, accuracy_diff REAL, accuracy_diff_ci_low REAL, accuracy_diff_ci_high REAL,
    only_a_right INTEGER, only_b_right INTEGER, mcnemar_p REAL,
    PRIMARY KEY (family, subject, arm_a, arm_b)
);
`;

// Migration 12: each run table keeps one index of its key instead of two.
// The plan's UNIQUE constraints had their own index beside the plan's
// idx_predictions_exp (experiment_id) and idx_tool_calls_exp (experiment_id,
// sample_id), prefixes of those keys: ~10 MB of a default run repeating the
// experiment id. The plan's named index now carries the uniqueness (UNIQUE on
// the constraint's columns): it serves every lookup the plan's index did, and
// the constraint (INSERT conflicts, ON CONFLICT targets) is the same. turns,
// tce's own table, is keyed by its unique key (WITHOUT ROWID): the table is
// its index (~10 MB; its id named nothing the key does not).
export const REKEYED: ReadonlyArray<readonly [TableDecl, TableLayout]> = [
  [PREDICTIONS, {
    constraints: [],
    indexes: [
      'CREATE UNIQUE INDEX idx_predictions_exp ON predictions(experiment_id, sample_id);',
      'CREATE INDEX idx_predictions_revised ON predictions(experiment_id, was_revised);',
      'CREATE INDEX idx_predictions_flip ON predictions(original_flipped_correct, original_flipped_incorrect);',
    ],
  }],
  [TOOL_CALLS, {
    constraints: [],
    indexes: [
      'CREATE UNIQUE INDEX idx_tool_calls_exp ON tool_calls(experiment_id, sample_id, tool_call_order);',
      'CREATE INDEX idx_tool_calls_name ON tool_calls(tool_name);',
      'CREATE INDEX idx_tool_calls_revised ON tool_calls(model_revised_after);',
    ],
  }],
  [TURNS, { constraints: ['PRIMARY KEY (experiment_id, sample_id, turn_index)'], indexes: [], withoutRowid: true }],
];

// Each migration's own text, then what the run tables' declarations add in
// that version (a declared column with `since: N` needs migration N here).
// Migration 1 is the plan's text alone; a test checks it against the
// declarations.
const TEXT_MIGRATIONS: Migration[] = [
  { version: 1, description: 'the plan\'s schema', sql: PLAN_SCHEMA_SQL },
  {
    version: 2,
    description: 'tce: provenance, statuses, validity, turns, decisions',
    sql: CONDITION_METRICS_LABELS.map((c) => `ALTER TABLE condition_metrics ADD COLUMN ${c};`).join('\n'),
  },
  {
    version: 3,
    description: 'analysis: intervals, tests and breakdowns beside the plan\'s condition_metrics',
    sql: ANALYSIS_COLUMNS.map((c) => `ALTER TABLE condition_metrics ADD COLUMN ${c};`).join('\n') + ANALYSIS_TABLES_SQL,
  },
  { version: 4, description: 'viewer: covering index for the per-condition counts of `tce view`', sql: VIEW_INDEXES_SQL },
  {
    version: 5,
    description: 'attribution: rule comparators, tool informativeness, the decision\'s comparisons',
    sql: ATTRIBUTION_TOOL_COLUMNS.map((c) => `ALTER TABLE condition_tool_metrics ADD COLUMN ${c};`).join('\n')
      + ATTRIBUTION_METRIC_COLUMNS.map((c) => `ALTER TABLE condition_metrics ADD COLUMN ${c};`).join('\n') + ATTRIBUTION_TABLES_SQL,
  },
  {
    version: 6,
    description: 'tce: the sampling parameters each experiment sent (all of them, explicitly)',
    sql: '', // experiments.sampling_json, declared in tables.ts
  },
  {
    version: 7,
    description: 'tce: the suite id shared by all shards, and the suite\'s whole sample selection (names missing shards\' samples)',
    sql: '', // experiments.suite_id and suite_samples, declared in tables.ts
  },
  {
    version: 8,
    description: 'tce: long request texts stored once per batch (turns.request_parts)',
    sql: '', // turns.request_parts, declared in tables.ts
  },
  {
    version: 9,
    description: 'tce: long texts stored once (texts, <column>_text_id), read through the predictions_full, tool_calls_full and turns_full views; idx_turns_exp dropped (the UNIQUE index covers it)',
    // The views list every column: a later migration that adds a column to
    // one of these tables re-creates its view (fullViewSql) after it.
    sql: ['DROP INDEX IF EXISTS idx_turns_exp;', ...[PREDICTIONS, TOOL_CALLS, TURNS].map((t) => fullViewSql(t, 9))].join('\n'),
  },
  {
    version: 10,
    description: 'tce: a turn\'s request parameters in their own column (turns.request_params); chum_uri, image_sha256, revision_reason and tool_arguments_json stored once in texts too; the _full views re-created',
    sql: [PREDICTIONS, TOOL_CALLS, TURNS].map((t) => fullViewSql(t, 10)).join('\n'),
  },
  {
    version: 11,
    description: 'tce: turns.endpoint and predictions.final_waypoints_json stored once in texts; idx_predictions_view dropped (prediction rows are narrow since the texts moved out: the suite page groups them by idx_predictions_exp)',
    sql: ['DROP INDEX IF EXISTS idx_predictions_view;', fullViewSql(PREDICTIONS, 11), fullViewSql(TURNS, 11)].join('\n'),
  },
  {
    version: 12,
    description: 'tce: one index per run table key: the plan\'s idx_predictions_exp and idx_tool_calls_exp hold the UNIQUE constraints, turns is keyed by (experiment_id, sample_id, turn_index) WITHOUT ROWID (its id dropped); the _full views re-created',
    sql: [
      ...REKEYED.map(([t]) => `DROP VIEW IF EXISTS ${t.name}_full;`),
      ...REKEYED.map(([t, layout]) => rebuildTableSql(t, 12, layout)),
      ...REKEYED.map(([t]) => fullViewSql(t, 12)),
    ].join('\n'),
    compact: true,
  },
];

// A new migration is one more entry of TEXT_MIGRATIONS (never edit old ones).
export const MIGRATIONS: readonly Migration[] = TEXT_MIGRATIONS.map((m) => ({ ...m, sql: [m.version === 1 ? '' : declaredMigrationSql(m.version), m.sql].filter((x) => x.trim()).join('\n') }));

export function latestSchemaVersion(): number {
  return MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
}
