// Rows as the driver produces them: typed from the table declarations
// (tables.ts), keys are the database column names exactly (snake_case), so
// the Arrow intermediates and the bulk load need no mapping, and a
// misspelled column is a compile error. `id` and `created_at` are never set
// by the driver.
import type { ExperimentRow, PredictionRow, ToolCallRow, TurnRow } from './tables';

export type { ExperimentRow, PredictionRow, ToolCallRow, TurnRow, StoredExperiment, StoredPrediction, StoredToolCall, StoredTurn } from './tables';

export type Cell = string | number | null | Uint8Array;
/** A row of any run table, for the code that treats every table alike
 * (Arrow encoding, bulk load); absent = NULL. */
export type AnyRow = Readonly<Record<string, Cell | undefined>>;

/** Everything one finished sample of one experiment produced. A sample is
 * done only when its SampleRecord is on disk. */
export interface SampleRecord {
  prediction: PredictionRow;
  turns: TurnRow[];
  toolCalls: ToolCallRow[];
}

export interface RunWriter {
  readonly experimentId: string;
  readonly dir: string;
  /** The folder held no committed batch when opened (nothing to resume). */
  readonly freshDir?: boolean;
  /** Sample ids already on disk (for resume). */
  doneSampleIds(): Set<number>;
  /** Queues a finished sample; it is durable after the next flush resolves. */
  append(rec: SampleRecord): void;
  /** Writes queued samples as complete Arrow record batches (atomic). */
  flush(): Promise<void>;
  /** Flushes and records the final experiment row (status etc.). */
  finish(experiment: ExperimentRow): Promise<void>;
}
