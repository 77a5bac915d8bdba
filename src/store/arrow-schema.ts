// The Arrow layout of the run tables, derived from the migrated database
// schema itself so that a new column in schema.ts needs no change here.
import { Binary, Field, Float64, Schema, Utf8, type DataType } from 'apache-arrow';
import { migrate } from './db';
import { latestSchemaVersion } from './schema';
import Database from 'better-sqlite3';

export const RUN_TABLES = ['predictions', 'turns', 'tool_calls'] as const;
export type RunTable = (typeof RUN_TABLES)[number];

/** How a column is held in Arrow. INTEGER is Float64 (not Int64): exact up
 * to 2^53 with no range cliff, and BigInt conversion made Int64 ~8x slower
 * per cell to write and ~2x to read (measured, docs/storage.md). The SQLite
 * type travels in the field metadata so readers know it is an integer. */
export type ColumnKind = 'text' | 'real' | 'integer' | 'blob';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** NOT NULL in the schema: the writer refuses a NULL here at once rather
   * than let the bulk load fail later. */
  required: boolean;
}

export interface TableLayout {
  table: RunTable;
  columns: ColumnSpec[];
  schema: Schema;
}

// Filled by the database; the driver never sets them.
const DB_OWNED = new Set(['id', 'created_at']);

function kindOf(table: string, column: string, declared: string): ColumnKind {
  const t = declared.toUpperCase();
  // SQLite's own affinity rules (datatype3.html §3.1), in its order.
  if (t.includes('INT')) return 'integer';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text';
  if (t.includes('BLOB') || t === '') return 'blob';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'real';
  throw new Error(`${table}.${column}: declared type '${declared}' has no Arrow mapping`);
}

export function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'text': return new Utf8();
    case 'blob': return new Binary();
    case 'real':
    case 'integer': return new Float64();
  }
}

let cache: { version: number; layouts: Record<RunTable, TableLayout> } | undefined;

/** Layouts of predictions, turns and tool_calls from a freshly migrated
 * in-memory database (computed again only when a module registers a
 * migration). */
export function runTableLayouts(): Record<RunTable, TableLayout> {
  if (cache?.version === latestSchemaVersion()) return cache.layouts;
  const db = new Database(':memory:');
  try {
    migrate(db, ':memory:');
    const out = {} as Record<RunTable, TableLayout>;
    for (const table of RUN_TABLES) {
      const info = db.prepare('SELECT name, type, "notnull" AS required FROM pragma_table_info(?)').all(table) as Array<{ name: string; type: string; required: number }>;
      const columns = info
        .filter((c) => !DB_OWNED.has(c.name))
        .map((c) => ({ name: c.name, kind: kindOf(table, c.name, c.type), required: c.required === 1 }));
      const fields = columns.map((c) => new Field(c.name, arrowType(c.kind), true, new Map([['sqlite_type', c.kind]])));
      out[table] = { table, columns, schema: new Schema(fields, new Map([['tce_table', table]])) };
    }
    cache = { version: latestSchemaVersion(), layouts: out };
    return out;
  } finally {
    db.close();
  }
}
