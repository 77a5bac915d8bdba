// A self_consistency.db's label spellings -> our enums. A database may write
// "Incident Zone" or 2 where we write incident_zone; the config's value maps
// (dataset.selfConsistency.values) say how. Every distinct value of each
// label column is judged while the rows are read, and one error lists all
// the values that still need a mapping.
import type Database from 'better-sqlite3';
import { SC_COLUMNS, SC_COLUMN_NAMES, SC_LABEL_ENUMS, type ScColumn, type ScLabel } from '../config/self-consistency';
import { TceError } from '../util/errors';
import { closestNames } from '../util/closest';
import { escapeControl } from '../util/text';
import { FieldError, toLatAction, toLongAction, toScene } from './sample-fields';
import { quoteIdent, shownName, type ScLayout, type ScScope } from './sc-layout';

/** Per label kind: their spelling -> ours (null = missing). */
export type ScValueMaps = Partial<Record<ScLabel, Readonly<Record<string, string | null>>>>;

const VALIDATE: Record<ScLabel, (v: unknown, field: string) => unknown> = { scene: toScene, long_action: toLongAction, lat_action: toLatAction };

export const labelOf = (ours: ScColumn): ScLabel | undefined => (SC_COLUMNS[ours] as { label?: ScLabel }).label;

/** The label columns the layout reads. */
export const labelColumns = (l: ScLayout): ScColumn[] => SC_COLUMN_NAMES.filter((c) => labelOf(c) !== undefined && l.col[c] !== undefined);

/** A value as the map's key: text as is, numbers as written (2 -> "2"). */
const keyOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined);

/** `v` through the map of its kind; values the map does not name pass unchanged. */
export function mapLabel(maps: ScValueMaps, label: ScLabel, v: unknown): unknown {
  const map = maps[label];
  const key = keyOf(v);
  return map && key !== undefined && Object.hasOwn(map, key) ? map[key] : v;
}

/** Our value for a database value: an enum value, null (missing), or
 * undefined when neither the map nor our enum knows it. */
export function mappedValue(maps: ScValueMaps, label: ScLabel, v: unknown): string | null | undefined {
  try {
    return VALIDATE[label](mapLabel(maps, label, v), label) as string | null;
  } catch (e) {
    if (e instanceof FieldError) return undefined;
    throw e;
  }
}

export interface ValueCount {
  value: unknown;
  rows: number;
  firstSampleId: unknown;
}

/** Distinct values of one column in scope, most frequent first. */
export function valueCounts(db: Database.Database, l: ScLayout, scope: ScScope, ours: ScColumn): ValueCount[] {
  const c = quoteIdent(l.col[ours]!);
  const id = quoteIdent(l.col.sample_id!);
  const sql = `SELECT ${c} AS v, COUNT(*) AS n, MIN(${id}) AS first FROM ${quoteIdent(l.table)}${scope.where} GROUP BY ${c} ORDER BY n DESC, v`;
  return (db.prepare(sql).all(...scope.params) as Array<{ v: unknown; n: number; first: unknown }>).map((r) => ({ value: r.v, rows: r.n, firstSampleId: r.first }));
}

/** A database value for a message: quoted text (control characters
 * escaped, long text cut), numbers bare, NULL, or a blob's size. */
export function shownValue(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Uint8Array) return `blob of ${v.length} bytes`;
  if (typeof v !== 'string') return String(v);
  return shownName(v.length > 60 ? `${v.slice(0, 57)}...` : v);
}

/** The label values neither mapped nor ours, collected while the rows are
 * read (one pass; distinct values are few, so each is judged once). */
export class UnmappedValues {
  private readonly judged = new Map<ScColumn, Map<unknown, boolean>>();
  private readonly bad = new Map<ScColumn, Map<unknown, ValueCount>>();

  constructor(private readonly maps: ScValueMaps) {}

  get found(): boolean {
    return this.bad.size > 0;
  }

  /** Whether every label value of this row can be read; records those that cannot. */
  checkRow(r: Partial<Record<ScColumn, unknown>>, labels: readonly ScColumn[]): boolean {
    let ok = true;
    for (const ours of labels) {
      const v = r[ours];
      let seen = this.judged.get(ours);
      if (!seen) this.judged.set(ours, (seen = new Map()));
      let good = seen.get(v);
      if (good === undefined) seen.set(v, (good = mappedValue(this.maps, labelOf(ours)!, v) !== undefined));
      if (good) continue;
      ok = false;
      let col = this.bad.get(ours);
      if (!col) this.bad.set(ours, (col = new Map()));
      const c = col.get(v);
      if (c) c.rows++;
      else col.set(v, { value: v, rows: 1, firstSampleId: r.sample_id });
    }
    return ok;
  }

  /** One error naming the file, table, every column with such values, and
   * each value with its row count and first sample_id (rows are read in
   * sample_id order); null when there were none. */
  error(file: string, l: ScLayout): TceError | null {
    if (!this.found) return null;
    const problems: string[] = [];
    let example: { label: ScLabel; value: unknown } | undefined;
    for (const ours of labelColumns(l)) {
      const bad = [...(this.bad.get(ours)?.values() ?? [])].sort((a, b) => b.rows - a.rows);
      if (bad.length === 0) continue;
      const label = labelOf(ours)!;
      example ??= { label, value: bad[0]!.value };
      const theirs = l.col[ours]!;
      const listed = bad.map((b) => `${shownValue(b.value)} (${b.rows === 1 ? `1 row, sample_id ${String(b.firstSampleId)}` : `${b.rows} rows, first sample_id ${String(b.firstSampleId)}`})`);
      problems.push(`column ${shownName(theirs)}${theirs === ours ? '' : ` (for ${ours})`}: ${bad.length} value(s) neither in dataset.selfConsistency.values.${label} nor ours (${SC_LABEL_ENUMS[label].join(', ')}): ${listed.join(', ')}`);
    }
    const { label, value } = example!;
    const key = keyOf(value) ?? String(value);
    const guess = closestNames(key, SC_LABEL_ENUMS[label], 1)[0] ?? `<one of ${SC_LABEL_ENUMS[label].join(', ')}>`;
    return new TceError('SC_UNMAPPED', `${file}: table ${shownName(l.table)}, ${problems.join('; ')}`,
      `map each value in dataset.selfConsistency.values.<kind>, e.g. "values": {"${label}": {${escapeControl(JSON.stringify(key), { oneLine: true })}: "${guess}"}} (null = missing)`);
  }
}
