// The run tables, declared once. The row types the driver writes and the
// readers read, the Arrow layout of the intermediates (arrow-schema.ts) and
// the DDL of every column and table tce adds to the plan's schema
// (schema.ts) are derived from these declarations. The plan's own
// CREATE TABLE text stays verbatim in schema.ts; a test checks that the
// migrated database has exactly the columns declared here.

export type ColumnKind = 'text' | 'real' | 'integer' | 'blob';

export interface ColumnDecl {
  readonly kind: ColumnKind;
  /** NOT NULL in the schema. */
  readonly notNull?: true;
  /** Every written row sets it, though the DDL allows NULL (the plan's
   * `experiment_id TEXT PRIMARY KEY`). */
  readonly required?: true;
  /** Filled by the database (id, created_at): never in a written row. */
  readonly dbOwned?: true;
  /** The migration that added the column (1 = the plan's schema). */
  readonly since: number;
  /** DDL after the type and NOT NULL: PRIMARY KEY, DEFAULT, REFERENCES. */
  readonly extra?: string;
  /** A long text stored once in `texts` (the bulk load leaves this column
   * NULL and sets `<name>_text_id`); the `<table>_full` view shows it. */
  readonly interned?: true;
}

export interface TableDecl<C extends Record<string, ColumnDecl> = Record<string, ColumnDecl>> {
  readonly name: string;
  /** The migration that created the table (1 = the plan's schema). */
  readonly since: number;
  readonly columns: C;
  /** Table constraints and indexes, for tables tce creates. */
  readonly constraints?: readonly string[];
  readonly indexes?: readonly string[];
}

function table<const C extends Record<string, ColumnDecl>>(name: string, since: number, columns: C, more: Pick<TableDecl, 'constraints' | 'indexes'> = {}): TableDecl<C> {
  return { name, since, columns, ...more };
}

const id = { kind: 'integer', since: 1, dbOwned: true, extra: 'PRIMARY KEY AUTOINCREMENT' } as const;
const createdAt = (since: number) => ({ kind: 'text', notNull: true, dbOwned: true, since, extra: "DEFAULT (datetime('now'))" }) as const;
const text1 = { kind: 'text', since: 1 } as const;
const int1 = { kind: 'integer', since: 1 } as const;
const real1 = { kind: 'real', since: 1 } as const;
const text2 = { kind: 'text', since: 2 } as const;
/** A text the bulk load stores once in `texts` (see TEXTS). */
const interned = <C extends ColumnDecl>(c: C) => ({ ...c, interned: true }) as C & { interned: true };
/** Where an interned column's text is: texts.id (set by the bulk load). */
const textId = { kind: 'integer', since: 9, dbOwned: true } as const;
const int2 = { kind: 'integer', since: 2 } as const;
const real2 = { kind: 'real', since: 2 } as const;

export const EXPERIMENTS = table('experiments', 1, {
  experiment_id: { kind: 'text', since: 1, required: true, extra: 'PRIMARY KEY' },
  created_at: createdAt(1),
  description: text1,
  condition_name: { kind: 'text', notNull: true, since: 1 },
  pipeline: { kind: 'text', notNull: true, since: 1 },
  predictor_model: text1,
  verifier_model: text1,
  tools_enabled: text1,
  temperature_predict: { kind: 'real', since: 1, extra: 'DEFAULT 0.0' },
  temperature_verify: { kind: 'real', since: 1, extra: 'DEFAULT 0.0' },
  seed: { kind: 'integer', since: 1, extra: 'DEFAULT 42' },
  total_samples: int1,
  total_wall_time_s: real1,
  predict_wall_time_s: real1,
  verify_wall_time_s: real1,
  throughput_samples_per_s: real1,
  status: { kind: 'text', notNull: true, since: 1, extra: "DEFAULT 'running'" },
  // provenance, so synthetic runs are always labelled
  verifier_size: text2,
  backend: text2,
  synthetic: int2,
  config_json: text2,
  config_hash: text2,
  tool_stats_mode: text2,
  tool_stats_sha256: text2,
  shard: text2,
  finished_at: text2,
  error: text2,
  // the sampling parameters each experiment sent (all of them, explicitly)
  sampling_json: { kind: 'text', since: 6 },
  // the suite id all shards share, and the suite's whole selection (ranges)
  suite_id: { kind: 'text', since: 7 },
  suite_samples: { kind: 'text', since: 7 },
});

export const PREDICTIONS = table('predictions', 1, {
  id,
  experiment_id: { kind: 'text', notNull: true, since: 1, extra: 'REFERENCES experiments(experiment_id)' },
  sample_id: { kind: 'integer', notNull: true, since: 1 },
  chum_uri: interned(text1),
  original_scene: text1,
  original_long_action: text1,
  original_lat_action: text1,
  original_generated_text: interned(text1),
  original_scene_correct: int1,
  final_scene: text1,
  final_long_action: text1,
  final_lat_action: text1,
  final_generated_text: interned(text1),
  final_scene_correct: int1,
  was_revised: int1,
  scene_was_revised: int1,
  revision_reason: interned(text1),
  scene_type_gt: text1,
  long_action_gt: text1,
  lat_action_gt: text1,
  odd_label: text1,
  fine_class: text1,
  location: text1,
  original_flipped_correct: int1,
  original_flipped_incorrect: int1,
  predict_time_ms: real1,
  verify_time_ms: real1,
  total_time_ms: real1,
  created_at: createdAt(1),
  // how each sample ended, and its cost
  original_status: text2,
  original_waypoints_json: interned(text2),
  final_status: text2,
  final_error: text2,
  final_waypoints_json: interned(text2),
  n_turns: int2,
  n_tool_calls: int2,
  prompt_tokens: int2,
  completion_tokens: int2,
  queue_wait_ms: real2,
  ttft_ms: real2,
  decode_ms: real2,
  retries: int2,
  image_sha256: interned(text2),
  original_generated_text_text_id: textId,
  final_generated_text_text_id: textId,
  original_waypoints_json_text_id: textId,
  // per sample, the same in every condition
  chum_uri_text_id: { ...textId, since: 10 },
  image_sha256_text_id: { ...textId, since: 10 },
  revision_reason_text_id: { ...textId, since: 10 },
  final_waypoints_json_text_id: { ...textId, since: 11 },
});

export const TOOL_CALLS = table('tool_calls', 1, {
  id,
  experiment_id: { kind: 'text', notNull: true, since: 1 },
  sample_id: { kind: 'integer', notNull: true, since: 1 },
  tool_call_order: { kind: 'integer', notNull: true, since: 1 },
  tool_name: { kind: 'text', notNull: true, since: 1 },
  tool_arguments_json: interned(text1),
  tool_result_json: interned(text1),
  model_revised_after: int1,
  revised_field: text1,
  old_value: text1,
  new_value: text1,
  created_at: createdAt(1),
  // extraction status and the validity record of spec 002
  turn_index: int2,
  call_status: text2,
  repairs_json: text2,
  source: text2,
  raw_text: interned(text2),
  parsed: int2,
  known_tool: int2,
  required_args_present: int2,
  schema_valid: int2,
  executed_ok: int2,
  error: text2,
  tool_time_us: real2,
  tool_result_json_text_id: textId,
  raw_text_text_id: textId,
  tool_arguments_json_text_id: { ...textId, since: 10 },
});

// No id: since migration 12 turns is a WITHOUT ROWID table keyed by
// (experiment_id, sample_id, turn_index) (REKEYED in schema.ts); a turn is
// named by its key, and the id of earlier versions named nothing more.
export const TURNS = table('turns', 2, {
  experiment_id: { kind: 'text', notNull: true, since: 2 },
  sample_id: { kind: 'integer', notNull: true, since: 2 },
  turn_index: { kind: 'integer', notNull: true, since: 2 },
  stage: { kind: 'text', notNull: true, since: 2 },
  endpoint: interned(text2),
  request_json: interned(text2),
  response_text: interned(text2),
  reasoning_text: text2,
  finish_reason: text2,
  status: { kind: 'text', notNull: true, since: 2 },
  error: text2,
  retries: int2,
  queue_wait_ms: real2,
  ttft_ms: real2,
  decode_ms: real2,
  e2e_ms: real2,
  prompt_tokens: int2,
  completion_tokens: int2,
  chunk_times: { kind: 'blob', since: 2 },
  stated_scene: text2,
  stated_long_action: text2,
  stated_lat_action: text2,
  created_at: createdAt(2),
  // long texts of request_json, once per batch (src/store/request-parts.ts)
  request_parts: { kind: 'text', since: 8 },
  request_json_text_id: textId,
  response_text_text_id: textId,
  // the request's parameters (model, tool names, sampling), apart from
  // request_json so that one prompt sent in several conditions is one text
  request_params: interned({ kind: 'text', since: 10 }),
  request_params_text_id: { ...textId, since: 10 },
  endpoint_text_id: { ...textId, since: 11 },
}, {
  // As migration 2 created it; migration 12 makes this key the table's
  // primary key (WITHOUT ROWID), which serves every lookup by experiment and
  // sample (migration 9 dropped the idx_turns_exp of earlier versions).
  constraints: ['UNIQUE(experiment_id, sample_id, turn_index)'],
});

export const RUN_DECISIONS = table('run_decisions', 2, {
  id: { ...id, since: 2 },
  created_at: createdAt(2),
  kind: { kind: 'text', notNull: true, since: 2 },
  decision: { kind: 'text', notNull: true, since: 2 },
  details_json: text2,
});

/** Long texts stored once: the bulk load keeps each interned column's
 * text here (id: the first 31 bits of its sha256, the next free one on a
 * collision; see texts.ts) and its id in `<column>_text_id`. Model replies, tool results
 * and request records repeat across samples and conditions. */
export const TEXTS = table('texts', 9, {
  id: { kind: 'integer', since: 9, extra: 'PRIMARY KEY' },
  text: { kind: 'text', notNull: true, since: 9 },
});

/** Every table declared here, in creation order. */
export const DECLARED_TABLES: readonly TableDecl[] = [EXPERIMENTS, PREDICTIONS, TOOL_CALLS, TURNS, RUN_DECISIONS, TEXTS];

/** The interned columns of a table. */
export function internedColumns(t: TableDecl): string[] {
  return Object.entries(t.columns).filter(([, c]) => c.interned).map(([n]) => n);
}

/** `<table>_full` as of migration `version`: every column of the table, each interned one with its
 * text whether stored inline or in `texts`; the `_text_id` columns left
 * out. What researchers (and tce's readers) query for the texts. */
export function fullViewSql(t: TableDecl, version: number): string {
  const stored = (n: string): boolean => (t.columns[`${n}_text_id`]?.since ?? Infinity) <= version;
  const cols = Object.entries(t.columns).filter(([n, c]) => !n.endsWith('_text_id') && c.since <= version).map(([n, c]) => (c.interned && stored(n)
    ? `coalesce(${n}, (SELECT text FROM texts WHERE texts.id = ${t.name}.${n}_text_id)) AS ${n}`
    : n));
  return `DROP VIEW IF EXISTS ${t.name}_full;\nCREATE VIEW ${t.name}_full AS SELECT ${cols.join(', ')} FROM ${t.name};`;
}

// Row types. A written row has every column the driver owns: NOT NULL ones
// required, the others optional (absent = NULL). A stored row, as readers
// get it from SQLite or the Arrow intermediates, has every column, NULL as
// null.
type CellOf<K extends ColumnKind> = K extends 'text' ? string : K extends 'blob' ? Uint8Array : number;
type Written<C> = { [K in keyof C as C[K] extends { dbOwned: true } ? never : K]: C[K] };
type Required_<C> = { -readonly [K in keyof C as C[K] extends { notNull: true } | { required: true } ? K : never]: C[K] extends { kind: infer T extends ColumnKind } ? CellOf<T> : never };
type Optional_<C> = { -readonly [K in keyof C as C[K] extends { notNull: true } | { required: true } ? never : K]?: C[K] extends { kind: infer T extends ColumnKind } ? CellOf<T> | null : never };
type Flatten<T> = { [K in keyof T]: T[K] };

/** A row as the driver writes it into `t`. */
export type RowOf<T extends TableDecl> = Flatten<Required_<Written<T['columns']>> & Optional_<Written<T['columns']>>>;
/** A row of `t` as stored: every column present, NULL as null. */
export type StoredRowOf<T extends TableDecl> = { -readonly [K in keyof T['columns']]: T['columns'][K] extends { kind: infer K2 extends ColumnKind } & ({ notNull: true } | { required: true }) ? CellOf<K2> : T['columns'][K] extends { kind: infer K2 extends ColumnKind } ? CellOf<K2> | null : never };

export type ExperimentRow = RowOf<typeof EXPERIMENTS>;
export type PredictionRow = RowOf<typeof PREDICTIONS>;
export type ToolCallRow = RowOf<typeof TOOL_CALLS>;
export type TurnRow = RowOf<typeof TURNS>;

export type StoredExperiment = StoredRowOf<typeof EXPERIMENTS>;
export type StoredPrediction = StoredRowOf<typeof PREDICTIONS>;
export type StoredToolCall = StoredRowOf<typeof TOOL_CALLS>;
export type StoredTurn = StoredRowOf<typeof TURNS>;

const SQL_TYPE: Record<ColumnKind, string> = { text: 'TEXT', real: 'REAL', integer: 'INTEGER', blob: 'BLOB' };

/** `name TYPE [NOT NULL] [extra]`, as in CREATE TABLE or ADD COLUMN. */
export function columnDdl(name: string, c: ColumnDecl): string {
  return [name, SQL_TYPE[c.kind], c.notNull ? 'NOT NULL' : '', c.extra ?? ''].filter(Boolean).join(' ');
}

/** How a rebuilt table is keyed and indexed (see rebuildTableSql). */
export interface TableLayout {
  readonly constraints: readonly string[];
  readonly indexes: readonly string[];
  readonly withoutRowid?: true;
}

/** Rebuilds `t` as of migration `version` with `layout`'s constraints and
 * indexes, keeping every row (SQLite's table rebuild: create, copy, drop,
 * rename). Its `_full` view must be dropped before (a view naming the
 * table blocks the rename) and re-created after. Columns no longer
 * declared are left behind. */
export function rebuildTableSql(t: TableDecl, version: number, layout: TableLayout): string {
  const cols = Object.entries(t.columns).filter(([, c]) => c.since <= version);
  const names = cols.map(([n]) => n).join(', ');
  const tmp = `${t.name}_v${version}`;
  const key = /PRIMARY KEY *\(([^)]*)\)/.exec(layout.constraints.join(' '))?.[1];
  const autoincrement = cols.some(([, c]) => /AUTOINCREMENT/.test(c.extra ?? ''));
  return [
    `CREATE TABLE ${tmp} (\n    ${[...cols.map(([n, c]) => columnDdl(n, c)), ...layout.constraints].join(',\n    ')}\n)${layout.withoutRowid ? ' WITHOUT ROWID' : ''};`,
    // In key order a WITHOUT ROWID table is built by appends (full pages).
    `INSERT INTO ${tmp} (${names}) SELECT ${names} FROM ${t.name}${layout.withoutRowid && key ? ` ORDER BY ${key}` : ''};`,
    // An AUTOINCREMENT counter moves with its table, so no id is reused.
    `DELETE FROM sqlite_sequence WHERE name = '${tmp}';`,
    autoincrement ? `UPDATE sqlite_sequence SET name = '${tmp}' WHERE name = '${t.name}';` : `DELETE FROM sqlite_sequence WHERE name = '${t.name}';`,
    `DROP TABLE ${t.name};`,
    `ALTER TABLE ${tmp} RENAME TO ${t.name};`,
    ...layout.indexes,
  ].join('\n');
}

/** The DDL migration `version` derives from the declarations: the columns
 * it adds to older tables, then the tables it creates. */
export function declaredMigrationSql(version: number): string {
  const out: string[] = [];
  for (const t of DECLARED_TABLES) {
    if (t.since >= version) continue;
    for (const [name, c] of Object.entries(t.columns)) if (c.since === version) out.push(`ALTER TABLE ${t.name} ADD COLUMN ${columnDdl(name, c)};`);
  }
  for (const t of DECLARED_TABLES) {
    if (t.since !== version) continue;
    // Columns a later migration adds are left to its ALTER TABLE.
    const lines = [...Object.entries(t.columns).filter(([, c]) => c.since <= version).map(([name, c]) => columnDdl(name, c)), ...(t.constraints ?? [])];
    out.push(`CREATE TABLE IF NOT EXISTS ${t.name} (\n    ${lines.join(',\n    ')}\n);`, ...(t.indexes ?? []));
  }
  return out.join('\n');
}
