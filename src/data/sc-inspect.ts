// What the importer would read from a self_consistency.db, for `tce
// inspect-db`: every table, the chosen one, our columns resolved to theirs,
// the label values with what each maps to, the experiments, and the
// importer's own verdict (it runs the real import on the same open file).
import type Database from 'better-sqlite3';
import { TceError } from '../util/errors';
import { readSelfConsistencyFrom, type ReadScOptions } from './self-consistency';
import { experimentCounts, layoutError, openScDb, quoteIdent, resolveLayout, scopeOf, type ScLayout, type ScScope, type ScTable } from './sc-layout';
import { labelColumns, labelOf, mappedValue, valueCounts, type ValueCount } from './sc-values';
import type { ScColumn, ScLabel } from '../config/self-consistency';

export interface LabelInspection {
  ours: ScColumn;
  theirs: string;
  label: ScLabel;
  /** `mapped` undefined = UNMAPPED (the import fails on it). */
  values: Array<ValueCount & { mapped: string | null | undefined }>;
}

export interface ScInspection {
  tables: Array<ScTable & { rows: number | null }>;
  layout: ScLayout;
  experiments: Array<{ id: string; rows: number }>;
  /** The experiment whose rows the values were counted over; null = all rows. */
  experimentId: string | null;
  labels: LabelInspection[];
  /** The import's error, or null when it would succeed. */
  error: TceError | null;
  samples: number | null;
}

function rowCount(db: Database.Database, table: string): number | null {
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${quoteIdent(table)}`).get() as { n: number }).n;
  } catch {
    return null; // a view over a missing table: listed, not counted
  }
}

function labelsOf(db: Database.Database, l: ScLayout, scope: ScScope, opts: ReadScOptions): LabelInspection[] {
  return labelColumns(l).map((ours) => {
    const label = labelOf(ours)!;
    const values = valueCounts(db, l, scope, ours).map((v) => ({ ...v, mapped: mappedValue(opts.values ?? {}, label, v.value) }));
    return { ours, theirs: l.col[ours]!, label, values };
  });
}

export function inspectSelfConsistencyDb(file: string, opts: ReadScOptions): ScInspection {
  const db = openScDb(file);
  try {
    const layout = resolveLayout(db, opts);
    const tables = layout.tables.map((t) => ({ ...t, rows: rowCount(db, t.name) }));
    const out: ScInspection = { tables, layout, experiments: [], experimentId: null, labels: [], error: null, samples: null };
    if (layoutError(file, layout) === null) {
      out.experiments = experimentCounts(db, layout);
      let scope: ScScope = { where: '', params: [], experimentId: null };
      try {
        scope = scopeOf(db, file, layout, opts.experimentId);
      } catch (e) {
        if (!(e instanceof TceError)) throw e; // no experiment chosen: values over every row
      }
      out.experimentId = scope.experimentId;
      out.labels = labelsOf(db, layout, scope, opts);
    }
    try {
      out.samples = readSelfConsistencyFrom(db, file, opts).samples.length;
    } catch (e) {
      if (!(e instanceof TceError)) throw e;
      out.error = e;
    }
    return out;
  } finally {
    db.close();
  }
}
