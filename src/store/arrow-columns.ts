// Row objects ⇄ Arrow IPC files, column by column. apache-arrow's builders
// and row proxies are 3x (build) and 7x (read) slower than filling the
// buffers by hand (research/perf_baselines.md §2), so both directions work
// on the raw value, offset and validity buffers.
import { Binary, CompressionType, Float64, RecordBatch, RecordBatchFileWriter, Struct, Table, Type, Utf8, compressionRegistry, makeData, tableFromIPC, type Data } from 'apache-arrow';
import type { AnyRow, Cell } from './rows';
import { lz4FrameDecode, lz4FrameEncode, type Lz4Blocks } from '../util/lz4';
import { loadNative } from '../native/loader';

// Record batches are written with Arrow's own buffer compression, LZ4_FRAME
// (pyarrow, arrow-rs and DuckDB read it as is): the text columns repeat
// (experiment ids, statuses, templated replies, tool results) and shrink
// about 4x. Files written before, uncompressed, read as they did. The blocks
// go through the addon's codec when it loads (the same bytes; the writer
// and the bulk load each spent seconds of a default run in the TypeScript
// one), else through the TypeScript one.
const addon = loadNative().addon;
const blocks: Lz4Blocks | null = addon ? { encode: addon.lz4EncodeBlock, decode: addon.lz4DecodeBlock } : null;
compressionRegistry.set(CompressionType.LZ4_FRAME, { encode: (b) => lz4FrameEncode(b, blocks), decode: (b) => lz4FrameDecode(b, blocks) });
import type { ColumnKind, ColumnSpec, TableLayout } from './arrow-schema';
import { TceError } from '../util/errors';

export type Column = ArrayLike<Cell>;

/** Values the writer fills in for every row (a row may also carry them,
 * but then they must agree). */
export interface RowFill {
  experimentId: string;
  /** sample_id of each row, parallel to the rows. */
  sampleIds: ArrayLike<number>;
}

/** Names the row in error messages ("experiment e sample 12 turns row 3"). */
export type RowLocator = (row: number) => string;

const MAX_OFFSET = 0x7fffffff;

function invalid(where: string, column: string, expected: string, v: unknown): TceError {
  const got = v instanceof Uint8Array ? 'bytes' : v === null ? 'null' : v === undefined ? 'nothing' : typeof v === 'number' ? `number ${v}` : typeof v;
  return new TceError('RUN_ROW_INVALID', `${where}: column ${column}: expected ${expected}, got ${got}`, 'the driver must produce rows matching the database schema (src/store/schema.ts)');
}

function bitmap(n: number): Uint8Array {
  return new Uint8Array((n + 7) >> 3);
}

function varWidth(rows: readonly AnyRow[], { name, kind, required }: ColumnSpec & { kind: 'text' | 'blob' }, at: RowLocator): FilledColumn {
  const n = rows.length;
  const valid = bitmap(n);
  const offsets = new Int32Array(n + 1);
  let nulls = 0;
  let bound = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v === null || v === undefined) {
      if (required) throw invalid(at(i), name, `a value (the column is NOT NULL)`, v);
      nulls++;
      continue;
    }
    if (kind === 'text') {
      if (typeof v !== 'string') throw invalid(at(i), name, 'text or null', v);
      bound += v.length * 3; // worst case UTF-8 bytes per UTF-16 unit
    } else {
      if (!(v instanceof Uint8Array)) throw invalid(at(i), name, 'bytes (Uint8Array) or null', v);
      bound += v.byteLength;
    }
  }
  const buf = Buffer.allocUnsafeSlow(bound);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![name];
    if (v !== null && v !== undefined) {
      valid[i >> 3]! |= 1 << (i & 7);
      if (typeof v === 'string') pos += buf.write(v, pos);
      else { buf.set(v as Uint8Array, pos); pos += (v as Uint8Array).byteLength; }
      if (pos > MAX_OFFSET) throw new TceError('RUN_BATCH_TOO_LARGE', `${at(i)}: column ${name} holds over 2 GiB in one batch`, 'flush more often (a smaller run.flushSamples)');
    }
    offsets[i + 1] = pos;
  }
  return { kind, nullCount: nulls, validity: nulls ? valid : null, offsets, data: buf.subarray(0, pos) };
}

function numeric(rows: readonly AnyRow[], { name, kind, required }: ColumnSpec, at: RowLocator, fill?: ArrayLike<number>): FilledColumn {
  const n = rows.length;
  const valid = bitmap(n);
  const values = new Float64Array(n);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    let v = rows[i]![name];
    if (fill) {
      if (v !== undefined && v !== null && v !== fill[i]) throw invalid(at(i), name, `${fill[i]} (the sample it belongs to)`, v);
      v = fill[i]!;
    }
    if (v === null || v === undefined) {
      if (required) throw invalid(at(i), name, `a value (the column is NOT NULL)`, v);
      nulls++;
      continue;
    }
    if (typeof v !== 'number' || Number.isNaN(v)) throw invalid(at(i), name, kind === 'integer' ? 'an integer or null' : 'a number or null', v);
    // Float64 holds integers exactly only up to 2^53.
    if (kind === 'integer' && !Number.isSafeInteger(v)) throw invalid(at(i), name, 'an integer (|n| < 2^53) or null', v);
    values[i] = v;
    valid[i >> 3]! |= 1 << (i & 7);
  }
  return { kind: 'real', nullCount: nulls, validity: nulls ? valid : null, offsets: null, data: values };
}

function constantText(n: number, value: string): FilledColumn {
  const bytes = Buffer.from(value, 'utf8');
  const buf = Buffer.allocUnsafeSlow(bytes.length * n);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) { bytes.copy(buf, i * bytes.length); offsets[i + 1] = (i + 1) * bytes.length; }
  return { kind: 'text', nullCount: 0, validity: null, offsets, data: buf };
}

/** One column's Arrow buffers, filled and checked but not yet an IPC file:
 * plain typed arrays, each over an ArrayBuffer of its own, so a batch can
 * be handed to another thread by transfer (run-write-thread.ts). */
export interface FilledColumn {
  kind: 'text' | 'blob' | 'real';
  nullCount: number;
  validity: Uint8Array | null;
  offsets: Int32Array | null;
  data: Uint8Array | Float64Array;
}

export interface FilledBatch {
  length: number;
  columns: FilledColumn[];
}

/** The ArrayBuffers a filled batch holds, for postMessage's transfer list. */
export function filledBuffers(b: FilledBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const c of b.columns) for (const a of [c.validity, c.offsets, c.data]) if (a) out.add(a.buffer as ArrayBuffer);
  return [...out];
}

/** Checks rows and fills their column buffers: every key of every row must
 * be a column of the table; a missing key is NULL. All errors about a row
 * are thrown here, where the row can still be named. */
export function fillColumns(layout: TableLayout, rows: readonly AnyRow[], fill: RowFill, at: RowLocator): FilledBatch {
  const known = new Set(layout.columns.map((c) => c.name));
  for (let i = 0; i < rows.length; i++) {
    for (const k in rows[i]!) if (!known.has(k)) throw new TceError('RUN_ROW_INVALID', `${at(i)}: ${layout.table} has no column '${k}'`, 'row keys are the database column names exactly');
    const eid = rows[i]!['experiment_id'];
    if (eid !== undefined && eid !== null && eid !== fill.experimentId) throw invalid(at(i), 'experiment_id', `'${fill.experimentId}'`, eid);
  }
  const columns = layout.columns.map((c: ColumnSpec) => {
    if (c.name === 'experiment_id') return constantText(rows.length, fill.experimentId);
    if (c.kind === 'text' || c.kind === 'blob') return varWidth(rows, { ...c, kind: c.kind }, at);
    return numeric(rows, c, at, c.name === 'sample_id' ? fill.sampleIds : undefined);
  });
  return { length: rows.length, columns };
}

function columnData(c: FilledColumn, length: number): Data {
  const nullBitmap = c.nullCount ? c.validity : null;
  if (c.kind === 'real') return makeData({ type: new Float64(), length, nullCount: c.nullCount, nullBitmap, data: c.data as Float64Array });
  const type = c.kind === 'text' ? new Utf8() : new Binary();
  return makeData({ type, length, nullCount: c.nullCount, nullBitmap, valueOffsets: c.offsets!, data: c.data as Uint8Array } as never);
}

/** A filled batch as one record batch in an LZ4-compressed Arrow IPC file:
 * the costly half of a write (compression), which needs no row objects. */
export function ipcFile(layout: TableLayout, batch: FilledBatch): Uint8Array {
  const children = batch.columns.map((c) => columnData(c, batch.length));
  const struct = makeData({ type: new Struct(layout.schema.fields), length: batch.length, nullCount: 0, children });
  const writer = new RecordBatchFileWriter({ compressionType: CompressionType.LZ4_FRAME });
  writer.write(new Table(layout.schema, new RecordBatch(layout.schema, struct)));
  writer.finish();
  return writer.toUint8Array(true);
}

/** Encodes rows as one record batch in an Arrow IPC file. Every key of
 * every row must be a column of the table; a missing key is NULL. */
export function encodeRows(layout: TableLayout, rows: readonly AnyRow[], fill: RowFill, at: RowLocator): Uint8Array {
  return ipcFile(layout, fillColumns(layout, rows, fill, at));
}

const TYPE_OF_KIND: Record<ColumnKind, Type> = { text: Type.Utf8, blob: Type.Binary, real: Type.Float, integer: Type.Float };

/** Read access to one column of one record batch. The bulk load reads
 * cells one at a time straight from the file's buffers, so the objects it
 * binds die young instead of a million of them being kept for a whole
 * experiment (that garbage cost more than the decoding). */
export interface Cells {
  readonly length: number;
  at(i: number): Cell;
}

/** Where a column's validity bits are: the part of `Data` the cells read. */
interface Validity { length: number; bitmap: Uint8Array | null; offset: number }

const validityOf = (d: Data): Validity => ({ length: d.length, bitmap: d.nullCount ? d.nullBitmap! : null, offset: d.offset });

abstract class ValidityCells implements Cells {
  readonly length: number;
  readonly bitmap: Uint8Array | null;
  readonly offset: number;
  constructor(v: Validity) {
    this.length = v.length;
    this.bitmap = v.bitmap;
    this.offset = v.offset;
  }
  protected isNull(i: number): boolean {
    if (this.bitmap === null) return false;
    const j = this.offset + i;
    return (this.bitmap[j >> 3]! & (1 << (j & 7))) === 0;
  }
  abstract at(i: number): Cell;
}

class VarWidthCells extends ValidityCells {
  readonly buf: Buffer;
  constructor(v: Validity, vals: Uint8Array, readonly offs: Int32Array, readonly asString: boolean) {
    super(v);
    this.buf = Buffer.from(vals.buffer, vals.byteOffset, vals.byteLength);
  }
  at(i: number): Cell {
    if (this.isNull(i)) return null;
    // Buffer.toString beats TextDecoder on short strings
    return this.asString ? this.buf.toString('utf8', this.offs[i], this.offs[i + 1]) : this.buf.subarray(this.offs[i], this.offs[i + 1]);
  }
}

class FloatCells extends ValidityCells {
  readonly hasNulls: boolean;
  constructor(v: Validity, readonly values: Float64Array) {
    super(v);
    this.hasNulls = v.bitmap !== null;
  }
  at(i: number): Cell {
    return this.isNull(i) ? null : this.values[i]!;
  }
}

class ListCells implements Cells {
  constructor(readonly list: ArrayLike<Cell>) {}
  get length(): number { return this.list.length; }
  at(i: number): Cell { return this.list[i]!; }
}

/** One column as a plain array: a Float64Array when it has no NULLs. */
export function materialize(parts: readonly Cells[]): Column {
  const length = parts.reduce((n, p) => n + p.length, 0);
  if (parts.every((p) => p instanceof FloatCells && !p.hasNulls)) {
    if (parts.length === 1) return (parts[0] as FloatCells).values;
    const out = new Float64Array(length);
    let k = 0;
    for (const p of parts) { out.set((p as FloatCells).values, k); k += p.length; }
    return out;
  }
  const out: Cell[] = new Array(length);
  let k = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) out[k++] = p.at(i);
  return out;
}

function cellsOf(chunks: readonly Data[], kind: ColumnKind, textAsBytes: boolean): Cells {
  const one = (d: Data): Cells => (kind === 'text' || kind === 'blob'
    ? new VarWidthCells(validityOf(d), d.values as Uint8Array, d.valueOffsets as Int32Array, kind === 'text' && !textAsBytes)
    : new FloatCells(validityOf(d), d.values as Float64Array));
  return chunks.length === 1 ? one(chunks[0]!) : new ListCells(materialize(chunks.map(one)));
}

export interface DecodeOptions {
  /** Text cells as their UTF-8 bytes (Buffers) instead of strings: the bulk
   * load binds them with CAST(? AS TEXT) and skips decoding to UTF-16 and
   * better-sqlite3's re-encoding to UTF-8. */
  textAsBytes?: boolean;
}

export interface DecodedTable {
  cells: Record<string, Cells>;
  length: number;
}

/** Decodes an Arrow IPC file written by encodeRows (or by any tool that
 * keeps the column names and types). Columns the file lacks (written before
 * a migration added them) read as NULL; a column the schema does not know
 * is an error naming the file. */
export function decodeTable(layout: TableLayout, bytes: Uint8Array, file: string, opts: DecodeOptions = {}): DecodedTable {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (e) {
    throw new TceError('RUN_FILE_INVALID', `${file}: not a readable Arrow IPC file: ${(e as Error).message}`);
  }
  const known = new Map(layout.columns.map((c) => [c.name, c]));
  for (const f of table.schema.fields) {
    const spec = known.get(f.name);
    if (!spec) throw new TceError('RUN_FILE_INVALID', `${file}: column '${f.name}' is not in table ${layout.table}`, 'was it written by a newer tce?');
    if (f.type.typeId !== TYPE_OF_KIND[spec.kind] || (f.type.typeId === Type.Float && (f.type as Float64).precision !== 2)) {
      throw new TceError('RUN_FILE_INVALID', `${file}: column '${f.name}' has Arrow type ${String(f.type)}, expected ${spec.kind === 'text' ? 'Utf8' : spec.kind === 'blob' ? 'Binary' : 'Float64'}`);
    }
  }
  const length = table.numRows;
  const cells: Record<string, Cells> = {};
  for (const c of layout.columns) {
    const vec = table.getChild(c.name);
    cells[c.name] = vec ? cellsOf(vec.data, c.kind, opts.textAsBytes ?? false) : new ListCells(new Array<Cell>(length).fill(null));
  }
  return { cells, length };
}

/** A column's cells as plain data for postMessage (the bulk load decodes
 * in a worker thread): typed arrays and the validity bits, no classes. */
export type CellsWire =
  | { kind: 'var'; v: Validity; vals: Uint8Array; offs: Int32Array; asString: boolean }
  | { kind: 'float'; v: Validity; values: Float64Array }
  | { kind: 'list'; list: Cell[] };

export function cellsToWire(c: Cells): CellsWire {
  if (c instanceof VarWidthCells) return { kind: 'var', v: { length: c.length, bitmap: c.bitmap, offset: c.offset }, vals: c.buf, offs: c.offs, asString: c.asString };
  if (c instanceof FloatCells) return { kind: 'float', v: { length: c.length, bitmap: c.bitmap, offset: c.offset }, values: c.values };
  return { kind: 'list', list: Array.from({ length: c.length }, (_, i) => c.at(i)) };
}

export function cellsFromWire(w: CellsWire): Cells {
  if (w.kind === 'var') return new VarWidthCells(w.v, w.vals, w.offs, w.asString);
  if (w.kind === 'float') return new FloatCells(w.v, w.values);
  // Buffers arrive as plain Uint8Arrays; the load binds and compares Buffers.
  return new ListCells(w.list.map((x) => (x instanceof Uint8Array && !Buffer.isBuffer(x) ? Buffer.from(x.buffer, x.byteOffset, x.byteLength) : x)));
}
