import type { Command } from '../command';
import { int, str, configFrom } from '../common-options';
import { RUN_OPTIONS, printRunSummary, runConfig, suiteOptions } from '../run-options';
import { runSuiteInterruptible } from '../interrupts';
import { verifierOverrides } from '../verifier-model';
import { STAGED, conditionLabel } from '../../protocol/conditions';

export const stagedCommand: Command = {
  options: {
    ...RUN_OPTIONS,
    'verifier-model': { type: 'string', description: '2b, 8b, or the base model path', valueName: 'M' },
    'gpu-id': { type: 'string', description: 'GPU for this model\'s server (overrides the config)', valueName: 'N' },
  },
  async run(args) {
    const { size, overrides } = verifierOverrides(configFrom(args).config, str(args, 'verifier-model'), int(args, 'gpu-id', { min: 0 }));
    const loaded = runConfig(args, overrides);
    const r = await runSuiteInterruptible(suiteOptions(args, loaded, { conditionIds: [conditionLabel(STAGED, size)] }));
    return printRunSummary(r, loaded.config);
  },
};
