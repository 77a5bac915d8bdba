import type { Command } from '../command';
import { str } from '../common-options';
import { writeConditionMetrics } from '../../analysis/analyze';
import { writeReports } from '../../report/write-reports';
import { summaryTable } from '../../report/summary-table';
import { ANALYSIS_OPTIONS, OUT_DIR_OPTION, analysisFrom } from './analyze';

export const reportCommand: Command = {
  description: 'Runs the analysis (as `tce analyze`, also from --from-arrow) and writes the per-sample JSONL, the insights report and the self-contained HTML page.',
  options: { ...ANALYSIS_OPTIONS, ...OUT_DIR_OPTION },
  async run(args) {
    const { db, result, fromArrow, reportsDir } = await analysisFrom(args);
    try {
      if (!fromArrow) writeConditionMetrics(db, result);
      const { files } = await writeReports(db, result, { outDir: str(args, 'out') ?? reportsDir });
      process.stdout.write(summaryTable(result));
      process.stdout.write(files.map((f) => `wrote ${f}\n`).join(''));
    } finally {
      db.close();
    }
    return 0;
  },
};
