// The viewer's read-only handle on the database. A run may still be
// writing (WAL): `PRAGMA data_version` changes whenever another connection
// commits, and then the cached experiment list is dropped. The per-condition
// sample lists are built here but cached by list-cache.ts (in a worker).
import { openDb, type DB } from '../store/db';
import { latestSchemaVersion } from '../store/schema';
import { selectExperiments, type ExperimentInfo } from '../analysis/load';
import { BASELINE, conditionLabel } from '../protocol/conditions';
import { baselineCorrectMap, diagnoseCondition, type SampleDiagnosis } from '../report/sample-diagnosis';

/** Made by migration 9 (src/store/schema.ts): the pages read the texts through it. */
const FULL_VIEW = 'predictions_full';

/** One sample of one condition as the list page shows and filters it. */
export interface ListRow {
  sample_id: number;
  gt: string | null; fine: string | null; long_gt: string | null; lat_gt: string | null;
  original: string | null; final: string | null;
  flip: SampleDiagnosis['flip'];
  tags: string[];
  /** Distinct tool names called, in call order. */
  tools: string[];
  n_calls: number;
  status: string | null;
  total_ms: number | null;
  n_turns: number | null;
}

export interface Experiment extends ExperimentInfo { label: string }

export class ViewStore {
  private version = -1;
  private experiments: Experiment[] | null = null;

  constructor(readonly db: DB) {}

  /** Opens `file` read-only with writes refused at the connection too. */
  static open(file: string): ViewStore {
    const db = openDb(file, { readonly: true, create: false });
    db.pragma('query_only = ON');
    return new ViewStore(db);
  }

  /** Databases from before migration 9 lack the _full views the pages
   * read the texts through (the viewer opens read-only, so it cannot add
   * them). */
  schemaNote(): string | null {
    const has = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?`).get(FULL_VIEW);
    if (has) return null;
    const v = this.db.pragma('user_version', { simple: true }) as number;
    return `${this.db.name}: schema version ${v} (current ${latestSchemaVersion()}) lacks the view ${FULL_VIEW}: condition and sample pages cannot read the texts; \`tce create-db --db ${this.db.name}\` migrates it`;
  }

  /** Changes whenever another connection commits (SQLite's data_version). */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** The analysed experiments (newest per condition and size), in report order. */
  conditions(): Experiment[] {
    const v = this.dataVersion();
    if (v !== this.version) {
      this.version = v;
      this.experiments = null;
    }
    this.experiments ??= selectExperiments(this.db).map((e) => ({ ...e, label: conditionLabel(e.condition_name, e.verifier_size) }));
    return this.experiments;
  }

  experiment(id: string): Experiment | null {
    return this.conditions().find((e) => e.experiment_id === id) ?? null;
  }

  baselineId(): string | null {
    return this.conditions().find((e) => e.condition_name === BASELINE)?.experiment_id ?? null;
  }

  /** What a condition's list depends on: its predictions and tool calls
   * and the baseline's predictions (the flips). Rows are only ever added or
   * replaced (new ids), so count and max id change with any write. */
  fingerprint(e: Experiment): string {
    const q = (table: string, id: string | null): string => {
      if (id === null) return '-';
      const r = this.db.prepare(`SELECT count(*) AS n, max(id) AS m FROM ${table} WHERE experiment_id = ?`).get(id) as { n: number; m: number | null };
      return `${r.n}:${r.m ?? 0}`;
    };
    return [q('predictions', e.experiment_id), q('tool_calls', e.experiment_id), q('predictions', this.baselineId())].join('/');
  }

  /** Every sample of one condition with its flip and diagnostic tags
   * (src/report/sample-diagnosis.ts, the same tags as the JSONL report),
   * read in one snapshot together with its fingerprint. */
  buildList(e: Experiment): { fingerprint: string; rows: ListRow[] } {
    return this.db.transaction(() => {
      const baseline = baselineCorrectMap(this.db, { baselineId: this.baselineId() });
      const c = { experimentId: e.experiment_id, conditionName: e.condition_name, verifierSize: e.verifier_size, label: e.label };
      const rows: ListRow[] = [];
      for (const d of diagnoseCondition(this.db, c, baseline, { texts: false })) rows.push(listRow(d));
      return { fingerprint: this.fingerprint(e), rows };
    })();
  }

  close(): void {
    this.db.close();
  }
}

function listRow(d: SampleDiagnosis): ListRow {
  return {
    sample_id: d.sample_id,
    gt: d.ground_truth.scene, fine: d.ground_truth.fine_class, long_gt: d.ground_truth.long_action, lat_gt: d.ground_truth.lat_action,
    original: d.original.scene, final: d.final.scene, flip: d.flip, tags: d.tags,
    tools: [...new Set(d.tool_calls.map((c) => c.name))], n_calls: d.tool_calls.length,
    status: d.final.status, total_ms: d.time.total_ms, n_turns: d.time.n_turns,
  };
}

export type { DB };
