// The per-sample JSONL (sample_report_data.json) of a list of conditions,
// handed out in chunks of records, and the examples the insights report
// picks from it. Shared by the main thread and the worker that encodes the
// second half of the conditions (sample-jsonl-worker.ts).
import type { DB } from '../store/db';
import { baselineCorrectMap, diagnoseCondition, type DiagnosedCondition, type SampleDiagnosis } from './sample-diagnosis';

export const EXAMPLE_KINDS = ['tool_saved', 'tool_broke', 'ignored_tool_warning'] as const;
const EXAMPLES_PER_KIND = 3;

/** Up to EXAMPLES_PER_KIND records per `${label}\0${kind}`, in file order. */
export type FoundExamples = Map<string, SampleDiagnosis[]>;

/** What a worker needs to encode its part: plain data, no database handle. */
export interface SamplePartJob {
  dbFile: string;
  baselineId: string | null;
  conditions: DiagnosedCondition[];
}

/** The worker's messages, in order: its records as UTF-8 chunks (moved,
 * not copied), then the examples it found. */
export type SamplePartMessage = { chunk: Uint8Array } | { found: Array<[string, SampleDiagnosis[]]> };

/** Only the fields a record reads (a ConditionResult carries much more). */
export function diagnosedFields(c: DiagnosedCondition): DiagnosedCondition {
  const out: DiagnosedCondition = { experimentId: c.experimentId, conditionName: c.conditionName, verifierSize: c.verifierSize, label: c.label };
  if (c.synthetic !== undefined) out.synthetic = c.synthetic;
  if (c.derivedFrom !== undefined) out.derivedFrom = c.derivedFrom;
  if (c.problem !== undefined) out.problem = c.problem;
  return out;
}

/** Hands the records to `write` in chunks of 2,000 lines (each ending in a newline). */
export function writeSampleRecords(db: DB, conditions: DiagnosedCondition[], baselineId: string | null, write: (lines: string) => void): FoundExamples {
  const baseline = baselineCorrectMap(db, { baselineId });
  const found: FoundExamples = new Map();
  let buf: string[] = [];
  for (const c of conditions) {
    for (const d of diagnoseCondition(db, c, baseline)) {
      buf.push(JSON.stringify(d));
      if (buf.length >= 2000) { write(buf.join('\n') + '\n'); buf = []; }
      for (const k of EXAMPLE_KINDS) {
        if (!d.tags.includes(k)) continue;
        const key = `${c.label}\u0000${k}`;
        const l = found.get(key) ?? [];
        if (l.length < EXAMPLES_PER_KIND) { l.push(d); found.set(key, l); }
      }
    }
  }
  if (buf.length) write(buf.join('\n') + '\n');
  return found;
}

/** Rows each condition's records read (its predictions and tool calls,
 * or a staged run's predictions for a derived first answer): the weight
 * that splits the conditions into two halves of about equal work. */
export function conditionWeights(db: DB, conditions: DiagnosedCondition[]): number[] {
  const count = (table: string, id: string): number => (db.prepare(`SELECT count(*) FROM ${table} WHERE experiment_id = ?`).pluck().get(id) as number);
  return conditions.map((c) => (c.derivedFrom ? count('predictions', c.derivedFrom) : count('predictions', c.experimentId) + count('tool_calls', c.experimentId)));
}

/** The index at which the second half starts: the split closest to half
 * the weight (1 .. n-1 for n >= 2). */
export function splitPoint(weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let best = 1;
  let bestGap = Infinity;
  let acc = 0;
  for (let i = 1; i < weights.length; i++) {
    acc += weights[i - 1]!;
    const gap = Math.abs(acc - total / 2);
    if (gap < bestGap) { best = i; bestGap = gap; }
  }
  return best;
}
