// The per-sample JSONL (sample_report_data.json) of a list of conditions,
// written a line per record, and the examples the insights report
// picks from it. Shared by the main thread and the worker that encodes the
// conditions the main thread has not claimed (sample-jsonl-worker.ts).
import type { DB } from '../store/db';
import { LineSink } from '../util/line-sink';
import { baselineCorrectMap, diagnoseCondition, type DiagnosedCondition, type SampleDiagnosis } from './sample-diagnosis';

export const EXAMPLE_KINDS = ['tool_saved', 'tool_broke', 'ignored_tool_warning'] as const;
const EXAMPLES_PER_KIND = 3;

/** Up to EXAMPLES_PER_KIND records per `${label}\0${kind}`, in file order. */
export type FoundExamples = Map<string, SampleDiagnosis[]>;

/** What the worker needs: plain data, no database handle. The conditions
 * are shared with the main thread through `taken` (one Int32 flag per
 * condition, claimed with a compare-and-swap): the main thread claims from
 * the front, the worker from the back, each in order until its first
 * failed claim, so the main thread holds conditions [0, k) and writes them
 * first, the worker [k, n), and neither waits on a fixed split whose
 * halves take unequal time. `problems`: each condition's, when known at
 * the start; else null each, and the worker is sent them later (see
 * SampleToWorker) and re-encodes a condition whose problem is not null.
 * `spillFd`: an unlinked file the main thread opened and closes, where the
 * worker writes its records (a process's descriptors are shared by its
 * threads), so they wait for the main thread's on disk, not in memory. */
export interface SamplePartJob {
  dbFile: string;
  baselineId: string | null;
  conditions: DiagnosedCondition[];
  taken: SharedArrayBuffer;
  spillFd: number;
}

/** The worker's one message: where each of its conditions' records lie in
 * the spill file ([start, bytes], in file order) and the examples it found. */
export interface SamplePartMessage { segments: Array<[number, number]>; found: Array<[string, SampleDiagnosis[]]> }

/** The main thread's one message: every condition's problem (null = none). */
export interface SampleToWorker { problems: Array<string | null> }

/** Claims condition i for the calling thread (false: the other has it). */
export function claim(taken: Int32Array, i: number): boolean {
  return Atomics.compareExchange(taken, i, 0, 1) === 0;
}

/** Only the fields a record reads (a ConditionResult carries much more). */
export function diagnosedFields(c: DiagnosedCondition): DiagnosedCondition {
  const out: DiagnosedCondition = { experimentId: c.experimentId, conditionName: c.conditionName, verifierSize: c.verifierSize, label: c.label };
  if (c.synthetic !== undefined) out.synthetic = c.synthetic;
  if (c.derivedFrom !== undefined) out.derivedFrom = c.derivedFrom;
  if (c.problem !== undefined) out.problem = c.problem;
  return out;
}

/** One condition's records, one line each, into `sink`, flushed at the
 * condition's end (the worker keeps each condition's bytes apart); its
 * examples are added to `found`. */
export function writeConditionRecords(db: DB, c: DiagnosedCondition, baseline: Map<number, boolean> | null, sink: LineSink, found: FoundExamples): void {
  for (const d of diagnoseCondition(db, c, baseline)) {
    sink.line(JSON.stringify(d));
    for (const k of EXAMPLE_KINDS) {
      if (!d.tags.includes(k)) continue;
      const key = `${c.label}\u0000${k}`;
      const l = found.get(key) ?? [];
      if (l.length < EXAMPLES_PER_KIND) { l.push(d); found.set(key, l); }
    }
  }
  sink.flush();
}

export function writeSampleRecords(db: DB, conditions: DiagnosedCondition[], baselineId: string | null, out: (bytes: Uint8Array) => void): FoundExamples {
  const baseline = baselineCorrectMap(db, { baselineId });
  const found: FoundExamples = new Map();
  const sink = new LineSink(out);
  for (const c of conditions) writeConditionRecords(db, c, baseline, sink, found);
  return found;
}

/** Rows the conditions' records read (their predictions and tool calls,
 * or a staged run's predictions for a derived first answer): whether a
 * worker thread pays (write-reports.ts REPORT_WORKER_MIN_ROWS). */
export function jsonlRows(db: DB, conditions: readonly DiagnosedCondition[]): number {
  const count = (table: string, id: string): number => (db.prepare(`SELECT count(*) FROM ${table} WHERE experiment_id = ?`).pluck().get(id) as number);
  return conditions.reduce((n, c) => n + (c.derivedFrom ? count('predictions', c.derivedFrom) : count('predictions', c.experimentId) + count('tool_calls', c.experimentId)), 0);
}
