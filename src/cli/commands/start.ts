import type { Command } from '../command';
import { RUN_OPTIONS, printRunSummary, runConfig, suiteOptions } from '../run-options';
import { runSuiteInterruptible } from '../interrupts';
import { analyzeAndReport } from '../analyze-and-report';

// `npm start`: the whole experiment on the embedded default (synthetic
// fixture + simulator unless the config says otherwise).
export const startCommand: Command = {
  description: 'With no config this makes the synthetic fixture if missing, starts the built-in simulator, runs all 11 conditions and the two no_tools controls on all 8,613 samples, loads the database, analyses and writes the reports. Results are labelled simulated.',
  options: { ...RUN_OPTIONS },
  async run(args) {
    const loaded = runConfig(args);
    const o = suiteOptions(args, loaded, { gate: true });
    const r = await runSuiteInterruptible(o);
    const reported = r.outcome !== 'interrupted' ? await analyzeAndReport(loaded.config, r, o.log, o.quiet) : null;
    return printRunSummary(r, loaded.config, reported?.failures);
  },
};
