import type { Command } from '../command';
import { CONFIG_OPTION, DB_OPTION, configFrom, str } from '../common-options';
import { openDb } from '../../store/db';
import { listRunDirs } from '../../store/run-reader';
import { loadRuns } from '../../store/bulk-load';

export const loadCommand: Command = {
  positionals: '[DIR...]',
  description: `Each DIR is a run directory (runs/<experiment_id>) or a folder holding them, such as
several nodes' copies of tool_calling_experiment/runs. Copies of one experiment are merged
sample by sample; samples already in the database are skipped, so loading twice changes
nothing. Two copies that disagree on a sample stop the load, naming both files.`,
  options: { ...CONFIG_OPTION, ...DB_OPTION },
  allowPositionals: true,
  async run(args) {
    const needConfig = str(args, 'db') === undefined || args.positionals.length === 0;
    const config = needConfig ? configFrom(args).config : undefined;
    const file = str(args, 'db') ?? config!.paths.db;
    const dirs = listRunDirs(args.positionals.length ? args.positionals : [config!.paths.runsDir]);
    const db = openDb(file);
    try {
      const started = process.hrtime.bigint();
      const r = loadRuns(db, dirs, { log: (l) => process.stdout.write(l + '\n') });
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      const rows = r.predictions + r.turns + r.toolCalls;
      process.stdout.write(`${file}: loaded ${r.experiments} experiments from ${dirs.length} run directories: ${r.predictions} predictions, ${r.turns} turns, ${r.toolCalls} tool calls (${r.skipped} samples already present) in ${s.toFixed(2)} s${rows ? `, ${Math.round(rows / s)} rows/s` : ''}\n`);
    } finally {
      db.close();
    }
    return 0;
  },
};
