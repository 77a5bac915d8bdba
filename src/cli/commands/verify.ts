import type { Command } from '../command';
import { int, str } from '../common-options';
import { RUN_OPTIONS, printRunSummary, runConfig, suiteOptions } from '../run-options';
import { runSuiteInterruptible } from '../interrupts';
import { verifierOverrides } from '../verifier-model';
import { configFrom } from '../common-options';
import { UsageError } from '../../util/errors';
import { CONDITION_TABLE } from '../../protocol/conditions';

/** Pipeline A's verifier conditions, in the plan's order. */
const VERIFY_CONDITIONS = CONDITION_TABLE.filter((c) => c.pipeline === 'A' && c.verifier).map((c) => c.name);

export const verifyCommand: Command = {
  options: {
    ...RUN_OPTIONS,
    condition: { type: 'string', description: VERIFY_CONDITIONS.join(' | '), valueName: 'C' },
    'verifier-model': { type: 'string', description: '2b, 8b, or the verifier model path', valueName: 'M' },
    'gpu-id': { type: 'string', description: 'GPU for this verifier\'s server (overrides the config)', valueName: 'N' },
  },
  async run(args) {
    const cond = str(args, 'condition');
    if (!cond || !(VERIFY_CONDITIONS as readonly string[]).includes(cond)) throw new UsageError(`--condition must be one of ${VERIFY_CONDITIONS.join(', ')} (found ${cond ?? 'nothing'})`);
    const { size, overrides } = verifierOverrides(configFrom(args).config, str(args, 'verifier-model'), int(args, 'gpu-id', { min: 0 }));
    const loaded = runConfig(args, overrides);
    const r = await runSuiteInterruptible(suiteOptions(args, loaded, { conditionIds: [`${cond}_${size}`] }));
    return printRunSummary(r, loaded.config);
  },
};
