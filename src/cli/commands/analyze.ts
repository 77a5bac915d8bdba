import type { Command } from '../command';
import { CONFIG_OPTION, DB_OPTION, configFrom, flag, int, str } from '../common-options';
import { openDb } from '../../store/db';
import { analyzeArrow, analyzeDb, toolStatsIfPresent, writeConditionMetrics, type AnalyzeOptions } from '../../analysis/analyze';
import { summaryTable } from '../../report/summary-table';
import type { ParsedArgs } from '../command';
import type { DB } from '../../store/db';
import type { AnalysisResult } from '../../analysis/types';

export const ANALYSIS_OPTIONS: Command['options'] = {
  ...CONFIG_OPTION,
  ...DB_OPTION,
  'from-arrow': { type: 'string', multiple: true, description: 'analyse Arrow run folders instead of the database (repeatable)', valueName: 'DIR' },
  bootstrap: { type: 'string', description: 'bootstrap resamples for the 95% intervals, 0 = none (default 10000)', valueName: 'N' },
  seed: { type: 'string', description: 'bootstrap seed (default: the config seed)', valueName: 'N' },
  workers: { type: 'string', description: 'bootstrap worker threads (default: CPU count)', valueName: 'N' },
  partial: { type: 'boolean', description: 'analyse a suite whose samples are not all loaded (shards missing) or whose experiments are still running (labelled PARTIAL; no decision); by default that is an error naming them' },
  experiment: { type: 'string', multiple: true, description: 'analyse only these experiment ids (repeatable; default: newest of each condition)', valueName: 'ID' },
};

export const OUT_DIR_OPTION: Command['options'] = {
  out: { type: 'string', description: 'output folder (default: paths.reportsDir of the config)', valueName: 'DIR' },
};

/** Shared by analyze, report and profile: the analysis from --db or --from-arrow. */
export async function analysisFrom(args: ParsedArgs, defaultBootstrap = 10_000): Promise<{ db: DB; result: AnalysisResult; fromArrow: boolean; reportsDir: string }> {
  const { config } = configFrom(args);
  const arrow = (args.values['from-arrow'] as string[] | undefined) ?? [];
  const ids = (args.values['experiment'] as string[] | undefined) ?? [];
  const workers = int(args, 'workers', { min: 1 });
  const opts: AnalyzeOptions = {
    bootstrap: int(args, 'bootstrap', { min: 0 }) ?? defaultBootstrap,
    seed: int(args, 'seed') ?? config.seed,
    gateThreshold: config.gate.threshold,
    maxFailedShare: config.run.maxFailedShare,
    toolStats: toolStatsIfPresent(config.paths.toolStats),
    ...(workers !== undefined ? { workers } : {}),
    ...(ids.length ? { experimentIds: ids } : {}),
    ...(args.values['partial'] === true ? { allowPartial: true } : {}),
  };
  if (arrow.length) {
    const { db, result } = await analyzeArrow(arrow, opts);
    return { db, result, fromArrow: true, reportsDir: config.paths.reportsDir };
  }
  const db = openDb(str(args, 'db') ?? config.paths.db, { create: false });
  return { db, result: await analyzeDb(db, opts), fromArrow: false, reportsDir: config.paths.reportsDir };
}

export const analyzeCommand: Command = {
  description: 'Reads the experiment database (or, with --from-arrow, only the Arrow run folders) and prints one row per condition. '
    + 'Writes condition_metrics and the breakdown tables into the database it read (not when reading Arrow files).',
  options: ANALYSIS_OPTIONS,
  async run(args) {
    const { db, result, fromArrow } = await analysisFrom(args);
    try {
      if (!fromArrow) writeConditionMetrics(db, result);
      process.stdout.write(summaryTable(result));
    } finally {
      db.close();
    }
    return 0;
  },
};
