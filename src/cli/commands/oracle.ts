import type { Command } from '../command';
import { RUN_OPTIONS, printRunSummary, runConfig, suiteOptions } from '../run-options';
import { runSuiteInterruptible } from '../interrupts';
import { CONDITIONS } from '../../protocol/conditions';

export const oracleCommand: Command = {
  options: { ...RUN_OPTIONS },
  async run(args) {
    const loaded = runConfig(args);
    const r = await runSuiteInterruptible(suiteOptions(args, loaded, { conditionIds: CONDITIONS.filter((c) => c.oracle).map((c) => c.id), gate: true }));
    return printRunSummary(r, loaded.config);
  },
};
