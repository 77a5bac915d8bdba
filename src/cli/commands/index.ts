import type { Command } from '../command';

/** One line of the registry: what `tce --help` shows, and how to load the
 * command. Modules load only when their command runs, so `tce --help` and
 * light commands do not pay for the driver, the simulator or the analysis. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Command;
}

// Every `tce` subcommand, in the order `tce --help` lists them.
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'config', summary: 'print the resolved configuration (or its JSON Schema)', load: () => (require('./config') as typeof import('./config')).configCommand },
  { name: 'create-db', summary: 'create (or migrate) the experiment database with the plan\'s schema', load: () => (require('./create-db') as typeof import('./create-db')).createDbCommand },
  { name: 'build-tools', summary: 'compute the tools\' statistics from self_consistency.db into tool_stats.json', load: () => (require('./build-tools') as typeof import('./build-tools')).buildToolsCommand },
  { name: 'tool', summary: 'run one tool as the executor would and print the response the model is shown', load: () => (require('./tool') as typeof import('./tool')).toolCommand },
  { name: 'extract', summary: 'extract tool calls and final answers from model output (JSONL in, JSONL out)', load: () => (require('./extract') as typeof import('./extract')).extractCommand },
  { name: 'load', summary: 'load Arrow run directories into the experiment database (merges shards; safe to repeat)', load: () => (require('./load') as typeof import('./load')).loadCommand },
  { name: 'start', summary: 'the whole experiment on the configured default: fixture, all 11 conditions and their no_tools controls, load, analysis, reports', load: () => (require('./start') as typeof import('./start')).startCommand },
  { name: 'synth', summary: 'write the synthetic SceneIQ fixture (MDS dataset + self_consistency.db) and check it against the published figures', load: () => (require('./synth') as typeof import('./synth')).synthCommand },
  { name: 'inspect-dataset', summary: 'show an MDS dataset\'s columns, encodings, sample count and a few decoded rows', load: () => (require('./inspect-dataset') as typeof import('./inspect-dataset')).inspectDatasetCommand },
  { name: 'inspect-db', summary: 'show what the importer reads from a self_consistency.db: tables, column and value mapping, experiments, and whether the import succeeds', load: () => (require('./inspect-db') as typeof import('./inspect-db')).inspectDbCommand },
  { name: 'serve-sim', summary: 'serve the simulated models (vLLM on the wire, synthetic) on 127.0.0.1 until Ctrl-C', load: () => (require('./serve-sim') as typeof import('./serve-sim')).serveSimCommand },
  { name: 'serve-check', summary: 'start the configured model servers, show them healthy, stop them', load: () => (require('./serve-check') as typeof import('./serve-check')).serveCheckCommand },
  { name: 'analyze', summary: 'per-condition metrics, 95% intervals, McNemar tests, gate and decision; fills condition_metrics', load: () => (require('./analyze') as typeof import('./analyze')).analyzeCommand },
  { name: 'report', summary: 'write sample_report_data.json, TOOL_CALLING_INSIGHTS_REPORT.md and report.html', load: () => (require('./report') as typeof import('./report')).reportCommand },
  { name: 'profile', summary: 'latency report per condition: p10-p99, share under 5 s, tokens, charts (Markdown + SVG + JSON)', load: () => (require('./profile') as typeof import('./profile')).profileCommand },
  { name: 'export', summary: 'export sft (valid tool-use steps as chat JSONL, spec 002) or batch (OpenAI Batch JSONL of the requests)', load: () => (require('./export') as typeof import('./export')).exportCommand },
  { name: 'show-request', summary: 'print the exact request body a turn sent, rebuilt from the database (images from the configured dataset)', load: () => (require('./show-request') as typeof import('./show-request')).showRequestCommand },
  { name: 'view', summary: 'browse the database in a local web viewer (127.0.0.1, read-only) until Ctrl-C', load: () => (require('./view') as typeof import('./view')).viewCommand },
  { name: 'run', summary: 'run the plan end to end: baseline, oracle gate, then every other condition (2B and 8B in parallel)', load: () => (require('./run') as typeof import('./run')).runCommand },
  { name: 'predict', summary: 'condition 0: the greedy baseline (copied with --reuse-greedy, or the predictor model run live)', load: () => (require('./predict') as typeof import('./predict')).predictCommand },
  { name: 'oracle', summary: 'the critical gate: oracle condition with the 2B and 8B verifiers in parallel, and the go/no-go decision', load: () => (require('./oracle') as typeof import('./oracle')).oracleCommand },
  { name: 'verify', summary: 'Pipeline A: one condition (prior_only, confusion_only, all_tools, oracle) with one verifier', load: () => (require('./verify') as typeof import('./verify')).verifyCommand },
  { name: 'staged', summary: 'Pipeline B: the base model predicts in three staged turns with one tool each', load: () => (require('./staged') as typeof import('./staged')).stagedCommand },
];
