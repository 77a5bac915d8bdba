// The Arrow layout of the run tables, derived from their declarations
// (tables.ts), so that a new declared column needs no change here.
import { Binary, Field, Float64, Schema, Utf8, type DataType } from 'apache-arrow';
import { PREDICTIONS, TOOL_CALLS, TURNS, type ColumnKind, type TableDecl } from './tables';

export const RUN_TABLES = ['predictions', 'turns', 'tool_calls'] as const;
export type RunTable = (typeof RUN_TABLES)[number];

const DECLS: Record<RunTable, TableDecl> = { predictions: PREDICTIONS, turns: TURNS, tool_calls: TOOL_CALLS };

export type { ColumnKind } from './tables';

/** How a column is held in Arrow. INTEGER is Float64 (not Int64): exact up
 * to 2^53 with no range cliff, and BigInt conversion made Int64 ~8x slower
 * per cell to write and ~2x to read (measured, docs/storage.md). The SQLite
 * type travels in the field metadata so readers know it is an integer. */
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

export function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'text': return new Utf8();
    case 'blob': return new Binary();
    case 'real':
    case 'integer': return new Float64();
  }
}

function layoutOf(table: RunTable): TableLayout {
  const columns = Object.entries(DECLS[table].columns)
    .filter(([, c]) => !c.dbOwned)
    .map(([name, c]) => ({ name, kind: c.kind, required: c.notNull === true }));
  const fields = columns.map((c) => new Field(c.name, arrowType(c.kind), true, new Map([['sqlite_type', c.kind]])));
  return { table, columns, schema: new Schema(fields, new Map([['tce_table', table]])) };
}

const LAYOUTS = { predictions: layoutOf('predictions'), turns: layoutOf('turns'), tool_calls: layoutOf('tool_calls') } satisfies Record<RunTable, TableLayout>;

/** Layouts of predictions, turns and tool_calls: the declared columns the
 * driver writes (not id and created_at), in table order. */
export function runTableLayouts(): Record<RunTable, TableLayout> {
  return LAYOUTS;
}
