import type { Command } from '../command';
import { flag, str } from '../common-options';
import { RUN_OPTIONS, printRunSummary, runConfig, suiteOptions } from '../run-options';
import { runSuiteInterruptible } from '../interrupts';
import { analyzeAndReport } from '../analyze-and-report';

export const runCommand: Command = {
  description: `Runs the plan's 11 conditions and the two no_tools controls (run.controls; or --conditions), oracle first; stops after the oracle when both oracle macro-F1 are below gate.threshold unless --force.
Every finished sample is written to Arrow under paths.runsDir before it counts; a re-run (or --resume) skips what is on disk.
At the end the runs are bulk-loaded into the database, analysed and reported.`,
  options: {
    ...RUN_OPTIONS,
    force: { type: 'boolean', description: 'run past a failed oracle gate (the decision is still recorded)' },
    conditions: { type: 'string', description: 'comma-separated condition ids, e.g. oracle_8b,all_tools_8b (default: all 13, or 11 with run.controls false)', valueName: 'IDS' },
    'no-report': { type: 'boolean', description: 'load into the database but skip analysis and reports' },
    'live-predict': { type: 'boolean', description: 'run the fine-tuned predictor instead of reusing the greedy baseline' },
  },
  async run(args) {
    const loaded = runConfig(args);
    const ids = str(args, 'conditions')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
    const o = suiteOptions(args, loaded, { conditionIds: ids, force: flag(args, 'force'), gate: true, livePredict: flag(args, 'live-predict') });
    const r = await runSuiteInterruptible(o);
    // One shard is part of a suite: it is analysed once every shard is loaded.
    if (o.shard) o.log(`shard ${o.shard.index}/${o.shard.count} of suite ${r.timestamp}: analyse after \`tce load\` of every shard's run folder`);
    const reported = !o.shard && !flag(args, 'no-report') && r.outcome !== 'interrupted' ? await analyzeAndReport(loaded.config, r, o.log, o.quiet) : null;
    return printRunSummary(r, loaded.config, reported?.failures);
  },
};
