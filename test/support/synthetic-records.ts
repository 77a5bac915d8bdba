// Synthetic SampleRecords for the storage tests and benches (not model
// output): every column of the live schema gets a deterministic value of
// its type, with NULLs, non-ASCII text and blobs mixed in, so a column
// added to the schema is exercised without editing this file.
import { runTableLayouts, type RunTable } from '../../src/store/arrow-schema';
import type { Cell, PredictionRow, SampleRecord, ToolCallRow, TurnRow } from '../../src/store/rows';

// Keys that identify a row; the writer fills experiment_id and sample_id.
const ORDER_COLUMN: Partial<Record<RunTable, string>> = { turns: 'turn_index', tool_calls: 'tool_call_order' };
const TEXTS = ['incident_zone', 'nominal', 'Stra\u00dfe \u2192 \u6e0b\u6ede \ud83d\ude97', '{"tool":"get_prior","arguments":{"scene":"nominal"}}', ''];

export interface SyntheticOptions {
  /** Characters of the long text columns (default 200). */
  textChars?: number;
}

function fillRow(table: RunTable, sid: number, k: number, opts: SyntheticOptions): Record<string, Cell> {
  const row: Record<string, Cell> = {};
  const layout = runTableLayouts()[table];
  layout.columns.forEach((c, ci) => {
    if (c.name === 'experiment_id' || c.name === 'sample_id') return;
    if (c.name === ORDER_COLUMN[table]) { row[c.name] = k; return; }
    const seed = sid * 31 + k * 7 + ci;
    if (!c.required && seed % 9 === 0) { row[c.name] = null; return; }
    let v: Cell;
    switch (c.kind) {
      case 'integer': v = seed % 5 === 0 ? seed * 1_000_003 : seed % 2; break;
      case 'real': v = seed / 7; break;
      case 'blob': v = Uint8Array.from({ length: (seed % 13) * 4 }, (_, i) => (seed + i) & 0xff); break;
      case 'text': {
        const base = TEXTS[seed % TEXTS.length]!;
        v = /json|text/.test(c.name) ? (base + ` sample ${sid} `).repeat(Math.ceil((opts.textChars ?? 200) / 40)) : base;
      }
    }
    row[c.name] = v;
  });
  return row;
}

/** A synthetic finished sample: sid % 4 turns and sid % 3 tool calls. */
export function syntheticRecord(sid: number, opts: SyntheticOptions = {}): SampleRecord {
  // Filled column by column from the layout, so typed only here; the
  // writer checks every cell against the schema anyway.
  const prediction = { ...fillRow('predictions', sid, 0, opts), sample_id: sid } as unknown as PredictionRow;
  return {
    prediction,
    turns: Array.from({ length: sid % 4 }, (_, k) => fillRow('turns', sid, k, opts) as unknown as TurnRow),
    toolCalls: Array.from({ length: sid % 3 }, (_, k) => fillRow('tool_calls', sid, k, opts) as unknown as ToolCallRow),
  };
}
