import { parseArgs } from 'node:util';
import { COMMANDS, type CommandEntry } from './commands/index';
import type { Command, OptionSpec } from './command';
import { TceError, UsageError, errorMessage } from '../util/errors';
import { escapeControl } from '../util/text';
import { tuneScavenge } from './gc-tuning';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function optionUsage(name: string, spec: OptionSpec): string {
  const flag = `--${name}${spec.short ? `, -${spec.short}` : ''}`;
  const value = spec.type === 'string' ? ` ${spec.valueName ?? name.toUpperCase().replace(/-/g, '_')}` : '';
  const dflt = spec.default !== undefined ? ` (default: ${String(spec.default)})` : '';
  return `  ${(flag + value).padEnd(34)} ${spec.description}${dflt}`;
}

export function commandHelp(entry: CommandEntry, cmd: Command): string {
  const lines = [`usage: tce ${entry.name}${Object.keys(cmd.options).length ? ' [options]' : ''}${cmd.positionals ? ` ${cmd.positionals}` : ''}`, '', entry.summary];
  if (cmd.description) lines.push('', cmd.description.trim());
  lines.push('', 'options:');
  for (const [name, spec] of Object.entries(cmd.options)) lines.push(optionUsage(name, spec));
  lines.push(optionUsage('help', { type: 'boolean', description: 'show this help' }));
  return lines.join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: tce <command> [options]',
    '',
    'tce runs the SceneIQ tool-calling verification experiment at the speed of the GPUs.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `tce <command> --help` for the options of one command.',
  ].join('\n');
}

/** Messages quote dataset values and server replies: control characters
 * are shown escaped, never sent to the terminal. */
function printError(e: unknown): void {
  const hint = e instanceof TceError ? e.hint : undefined;
  const lines = errorMessage(e).split('\n').map((l) => escapeControl(l, { oneLine: true }));
  process.stderr.write(`tce: error: ${lines[0]}\n`);
  if (lines.length > 1) process.stderr.write(lines.slice(1).map((l) => `  ${l}`).join('\n') + '\n');
  if (hint) process.stderr.write(`hint: ${escapeControl(hint, { oneLine: true })}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version') {
    process.stdout.write(`${require('../../../package.json').version}\n`);
    return EXIT_OK;
  }
  try {
    tuneScavenge();
  } catch (e) {
    printError(e);
    return EXIT_USAGE;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    printError(new UsageError(`unknown command '${name}'`, 'run `tce --help` for the list of commands'));
    return EXIT_USAGE;
  }
  const cmd = entry.load();
  let parsed;
  try {
    const options: Record<string, OptionSpec> = { ...cmd.options, help: { type: 'boolean', short: 'h', description: 'show help' } };
    parsed = parseArgs({ args: rest, options, allowPositionals: cmd.allowPositionals ?? false, strict: true });
  } catch (e) {
    printError(new UsageError(errorMessage(e), `run \`tce ${entry.name} --help\``));
    return EXIT_USAGE;
  }
  if (parsed.values['help']) {
    process.stdout.write(commandHelp(entry, cmd) + '\n');
    return EXIT_OK;
  }
  try {
    return await cmd.run({ values: parsed.values, positionals: parsed.positionals });
  } catch (e) {
    if (e instanceof UsageError) {
      printError(e);
      return EXIT_USAGE;
    }
    printError(e);
    if (!(e instanceof TceError) && process.env['TCE_DEBUG']) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    return EXIT_FAILED;
  }
}
