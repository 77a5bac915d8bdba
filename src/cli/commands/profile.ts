import type { Command } from '../command';
import { str } from '../common-options';
import { writeProfile } from '../../report/profile-report';
import { ANALYSIS_OPTIONS, OUT_DIR_OPTION, analysisFrom } from './analyze';

export const profileCommand: Command = {
  description: 'Writes profile_analysis.json, profile_report.md and profile_charts/*.svg. No bootstrap unless --bootstrap is given.',
  options: { ...ANALYSIS_OPTIONS, ...OUT_DIR_OPTION },
  async run(args) {
    const { db, result, reportsDir } = await analysisFrom(args, 0);
    try {
      const { files } = writeProfile(result, str(args, 'out') ?? reportsDir);
      process.stdout.write(files.map((f) => `wrote ${f}\n`).join(''));
    } finally {
      db.close();
    }
    return 0;
  },
};
