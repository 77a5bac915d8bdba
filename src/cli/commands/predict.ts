import type { Command } from '../command';
import { flag } from '../common-options';
import { RUN_OPTIONS, printRunSummary, runConfig, suiteOptions } from '../run-options';
import { runSuiteInterruptible } from '../interrupts';
import { BASELINE } from '../../protocol/conditions';

export const predictCommand: Command = {
  options: {
    ...RUN_OPTIONS,
    'reuse-greedy': { type: 'boolean', description: 'copy the greedy predictions from self_consistency.db instead of running the predictor' },
  },
  async run(args) {
    const loaded = runConfig(args);
    const r = await runSuiteInterruptible(suiteOptions(args, loaded, { conditionIds: [BASELINE], livePredict: !flag(args, 'reuse-greedy') }));
    return printRunSummary(r, loaded.config);
  },
};
