// Rows as the driver produces them: keys are the database column names
// exactly (snake_case), so the Arrow intermediates and the bulk load need no
// mapping. `id` and `created_at` are never set by the driver.

export type Cell = string | number | null | Uint8Array;
export type Row = Record<string, Cell>;

/** Everything one finished sample of one experiment produced. A sample is
 * done only when its SampleRecord is on disk. */
export interface SampleRecord {
  prediction: Row;   // table predictions
  turns: Row[];      // table turns
  toolCalls: Row[];  // table tool_calls
}

/** One experiment's row in `experiments` (column names as in the table). */
export type ExperimentRow = Row;

export interface RunWriter {
  readonly experimentId: string;
  readonly dir: string;
  /** Sample ids already on disk (for resume). */
  doneSampleIds(): Set<number>;
  /** Queues a finished sample; it is durable after the next flush resolves. */
  append(rec: SampleRecord): void;
  /** Writes queued samples as complete Arrow record batches (atomic). */
  flush(): Promise<void>;
  /** Flushes and records the final experiment row (status etc.). */
  finish(experiment: ExperimentRow): Promise<void>;
}
