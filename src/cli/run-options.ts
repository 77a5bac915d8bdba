// Options shared by the commands that run conditions (run, start, predict,
// verify, staged, oracle), and the step after a run: analysis and reports.
import type { OptionSpec, ParsedArgs } from './command';
import { CONFIG_OPTION, configFrom, flag, int, str } from './common-options';
import type { Shard, SuiteOptions, SuiteResult } from '../run/suite';
import { EXIT_INTERRUPTED } from './interrupts';
import { UsageError } from '../util/errors';
import type { LoadedConfig } from '../config/load';
import { preflightRunPaths } from '../store/preflight';
import { ioBatchReads, ioWindowUs } from '../run/io-http';
import { mediaFolder } from '../config/media-folder';
import { escapeControl } from '../util/text';
import type { Config } from '../config/schema';
import { failureLines, suiteFailures, type ConditionFailures } from '../run/failures';

export const RUN_OPTIONS: Record<string, OptionSpec> = {
  ...CONFIG_OPTION,
  limit: { type: 'string', description: 'only the first N samples (pilot runs: pilot small, scale by N only)', valueName: 'N' },
  suite: { type: 'string', description: 'suite id shared by all shards (default: the SLURM job id; sharded elsewhere: config hash + UTC date)', valueName: 'ID' },
  shard: { type: 'string', description: 'this node\'s share of the samples, e.g. 0/4 (merge with `tce load`)', valueName: 'I/N' },
  resume: { type: 'boolean', description: 'continue the unfinished suite with the same configuration (a plain re-run does too)' },
  'retry-failed': { type: 'boolean', description: 'the same as --resume: rerun the samples whose requests failed (server errors, timeouts), keeping the earlier attempts in the run folder' },
  quiet: { type: 'boolean', short: 'q', description: 'no progress display' },
  db: { type: 'string', description: 'experiment database (default: paths.db)', valueName: 'PATH' },
  runs: { type: 'string', description: 'run folder for Arrow intermediates (default: paths.runsDir)', valueName: 'DIR' },
  seed: { type: 'string', description: 'seed (default: config seed, 42)', valueName: 'N' },
  'client-mode': { type: 'string', description: 'native (raw bodies into the C++ engine) or openai (the openai package)', valueName: 'MODE' },
  concurrency: { type: 'string', description: 'initial in-flight requests per endpoint', valueName: 'N' },
  predictions: { type: 'string', description: 'what the verifiers check when the baseline is not in this run: greedy, or a live baseline\'s experiment id (default: the newest live baseline in the database from `tce predict`, else greedy)', valueName: 'SRC' },
};

export function parseShard(v: string | undefined): Shard | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--shard expects I/N, e.g. 0/4 (found '${v}')`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard ${v}: need 0 <= I < N`);
  return { index, count };
}

export function runConfig(args: ParsedArgs, extra: Record<string, unknown> = {}): LoadedConfig {
  const overrides: Record<string, unknown> = { ...extra };
  const db = str(args, 'db');
  if (db) overrides['paths.db'] = db;
  const runs = str(args, 'runs');
  if (runs) overrides['paths.runsDir'] = runs;
  const seed = int(args, 'seed');
  if (seed !== undefined) overrides['seed'] = seed;
  const cm = str(args, 'client-mode');
  if (cm) overrides['run.clientMode'] = cm;
  const conc = int(args, 'concurrency', { min: 1 });
  if (conc !== undefined) overrides['concurrency.initial'] = conc;
  return configFrom(args, overrides);
}

function envFlag(name: string): boolean | undefined {
  const v = process.env[name];
  return v === '1' ? true : v === '0' ? false : undefined;
}

export function suiteOptions(args: ParsedArgs, loaded: LoadedConfig, o: Partial<SuiteOptions>): SuiteOptions {
  // Every run command passes here before runSuite: bad paths, and a bad
  // TCE_IO_WINDOW_US or TCE_IO_URING, fail now, not after the run has written its manifest.
  const c = loaded.config;
  preflightRunPaths({ db: c.paths.db, runsDir: c.paths.runsDir, mediaDir: c.dataset.imageMode === 'file' ? mediaFolder(c) : null }, c.run.minFreeMiB * 2 ** 20);
  ioWindowUs();
  ioBatchReads();
  const quiet = flag(args, 'quiet');
  return {
    config: loaded.config,
    conditionIds: [],
    limit: int(args, 'limit', { min: 1 }),
    shard: parseShard(str(args, 'shard')),
    suite: str(args, 'suite'),
    resume: flag(args, 'resume') || flag(args, 'retry-failed'),
    predictions: str(args, 'predictions'),
    force: false,
    quiet,
    livePredict: false,
    gate: false,
    load: true,
    // Tests force the load beside the run on small suites, or keep it off.
    loadWhileRunning: envFlag('TCE_LOAD_WHILE_RUNNING'),
    log: (l) => { if (!quiet) process.stderr.write(`${escapeControl(l)}\n`); },
    ...o,
  };
}

/** Prints the suite's summary, failed samples counted; returns the exit
 * code: 130 when interrupted, 1 when a condition has more failed samples
 * than run.maxFailedShare, else 0. `counted`: the failed samples the
 * analysis counted (analyze-and-report.ts), else read from the database. */
export function printRunSummary(r: SuiteResult, c: Config, counted: ConditionFailures[] | null = null): number {
  const dbFile = c.paths.db;
  const failures = counted ?? suiteFailures(dbFile, r.experimentIds);
  const over = failures.filter((x) => x.share > c.run.maxFailedShare);
  const label = r.synthetic ? ' (SIMULATED models, SYNTHETIC data)' : '';
  process.stdout.write([
    `suite ${r.timestamp}: ${r.outcome}${label}`,
    `  ${r.experimentIds.length} experiments, ${r.turns} model turns, ${r.toolCalls} tool calls, ${r.wallSeconds.toFixed(1)} s, backend ${r.backend}`,
    ...(r.gate ? [`  ${r.gate.summary}`] : []),
    ...failureLines(failures, c.run.maxFailedShare),
    `  database: ${dbFile}`,
    `  Arrow runs: ${r.runDirs.length ? r.runDirs[0]!.replace(/[^/\\]+$/, '') : '-'}`,
  ].join('\n') + '\n');
  if (r.outcome === 'interrupted') return EXIT_INTERRUPTED;
  if (over.length) {
    process.stderr.write(`tce: error: ${over.length} condition(s) failed (more than run.maxFailedShare ${c.run.maxFailedShare} of samples without an answer): ${over.map((x) => `${x.label} ${x.failed}/${x.samples}`).join(', ')}; rerun them with \`tce run --resume\`\n`);
    return EXIT_FAILED;
  }
  return 0;
}

/** A condition had more failed samples than run.maxFailedShare. */
export const EXIT_FAILED = 1;
