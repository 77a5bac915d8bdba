import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, int, str } from '../common-options';
import { buildToolStatsFile } from '../../run/tool-stats';
import { selfConsistencyDbPath } from '../../data/load';

export const buildToolsCommand: Command = {
  description: 'Class frequencies, the greedy baseline\'s confusion matrix in both directions, GT scene-action co-occurrence and first-waypoint percentiles per (scene, long_action). --cross-fit K also writes K-fold statistics so a sample\'s tool answers never use its own fold. Same input, same bytes.',
  options: {
    ...CONFIG_OPTION,
    from: { type: 'string', description: 'self_consistency.db (default: dataset.selfConsistencyDb, else the fixture\'s under paths.fixtureDir)', valueName: 'FILE' },
    out: { type: 'string', description: 'output file (default: paths.toolStats)', valueName: 'FILE' },
    'cross-fit': { type: 'string', description: 'K >= 2: K-fold statistics; 0: in-sample only, as the plan (default: tools.crossFit)', valueName: 'K' },
    seed: { type: 'string', description: 'seed of the fold assignment (default: config seed)', valueName: 'N' },
  },
  async run(args) {
    const { config } = configFrom(args);
    const crossFit = int(args, 'cross-fit', { min: 0 }) ?? config.tools.crossFit;
    const from = str(args, 'from') ?? selfConsistencyDbPath(config);
    const out = str(args, 'out') ?? config.paths.toolStats;
    const stats = await buildToolStatsFile({ from, out, crossFit, seed: int(args, 'seed') ?? config.seed, config, synthesizeIfMissing: str(args, 'from') === undefined });
    const t = stats.all;
    process.stdout.write(`${out}: ${stats.sampleCount} samples (${t.labelled} labelled, ${t.withPrediction} with a greedy prediction), mode ${stats.mode}, from ${from} (sha256 ${stats.source?.sha256.slice(0, 12)}…)\n`);
    return 0;
  },
};
