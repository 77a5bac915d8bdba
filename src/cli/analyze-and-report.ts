// After a suite: the analysis into condition_metrics and the reports.
import type { Config } from '../config/schema';
import type { SuiteResult } from '../run/suite';
import { openDb } from '../store/db';
import { analyzeDb, toolStatsIfPresent, writeConditionMetrics } from '../analysis/analyze';
import { writeReports, summaryTable } from '../report/write-reports';

export async function analyzeAndReport(c: Config, r: SuiteResult, log: (l: string) => void, quiet: boolean): Promise<string[]> {
  const db = openDb(c.paths.db);
  try {
    const a = await analyzeDb(db, { experimentIds: r.experimentIds, seed: c.seed, gateThreshold: c.gate.threshold, maxFailedShare: c.run.maxFailedShare, toolStats: toolStatsIfPresent(c.paths.toolStats) });
    writeConditionMetrics(db, a);
    const { files } = await writeReports(db, a, { outDir: c.paths.reportsDir });
    if (!quiet) process.stdout.write(summaryTable(a) + '\n');
    for (const f of files) log(`wrote ${f}`);
    return files;
  } finally {
    db.close();
  }
}
