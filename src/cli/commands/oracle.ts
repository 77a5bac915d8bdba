import type { Command } from '../command';
import { RUN_OPTIONS, printRunSummary, runConfig, suiteExit, suiteOptions } from '../run-options';
import { runSuiteInterruptible } from '../interrupts';
import { CONDITIONS } from '../../protocol/conditions';

export const oracleCommand: Command = {
  options: { ...RUN_OPTIONS },
  async run(args) {
    const loaded = runConfig(args);
    const r = await runSuiteInterruptible(suiteOptions(args, loaded, { conditionIds: CONDITIONS.filter((c) => c.oracle).map((c) => c.id), gate: true }));
    printRunSummary(r, loaded.config.paths.db);
    return suiteExit(r);
  },
};
