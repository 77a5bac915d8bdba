// After a suite: the analysis into condition_metrics and the reports.
import type { Config } from '../config/schema';
import type { SuiteResult } from '../run/suite';
import { openDb } from '../store/db';
import { analyzeDb, plannedArms, toolStatsIfPresent, writeConditionMetrics } from '../analysis/analyze';
import { reportWorkerPays, SamplePart, writeReports, summaryTable } from '../report/write-reports';
import { conditionFailures, type ConditionFailures } from '../run/failures';
import type { ConditionResult } from '../analysis/types';

/** The reports' files, and each experiment's failed samples as the
 * analysis counted them (printRunSummary's, without reading every
 * prediction again; null when an experiment has no result of its own). */
export async function analyzeAndReport(c: Config, r: SuiteResult, log: (l: string) => void, quiet: boolean): Promise<{ files: string[]; failures: ConditionFailures[] | null }> {
  const db = openDb(c.paths.db);
  let part: SamplePart | null = null;
  try {
    // The report's JSONL worker starts now: it encodes records (from the
    // back of the conditions) on the core the analysis's reading leaves
    // idle, instead of after the analysis and its bootstrap. At a lower
    // priority (nice 10) it was starved whenever the machine was busy and
    // gained nothing there (docs/performance.md). A small run's JSONL is
    // one thread's (write-reports.ts).
    const planned = plannedArms(db, r.experimentIds);
    if (planned && reportWorkerPays(db, planned.arms)) part = new SamplePart(c.paths.db, planned.arms, planned.baselineId);
    const a = await analyzeDb(db, { experimentIds: r.experimentIds, seed: c.seed, gateThreshold: c.gate.threshold, maxFailedShare: c.run.maxFailedShare, toolStats: toolStatsIfPresent(c.paths.toolStats) });
    writeConditionMetrics(db, a);
    const { files } = await writeReports(db, a, { outDir: c.paths.reportsDir, part });
    part = null;
    if (!quiet) process.stdout.write(summaryTable(a) + '\n');
    for (const f of files) log(`wrote ${f}`);
    return { files, failures: failuresOf(r.experimentIds, a.conditions) };
  } finally {
    await part?.stop();
    db.close();
  }
}

function failuresOf(experimentIds: readonly string[], conditions: readonly ConditionResult[]): ConditionFailures[] | null {
  const own = new Map(conditions.filter((x) => x.derivedFrom === null).map((x) => [x.experimentId, x]));
  if (!experimentIds.every((id) => own.has(id))) return null;
  return experimentIds.map((id) => {
    const x = own.get(id)!;
    return conditionFailures(id, x.label, x.nFailed, x.n + x.nFailed);
  });
}
