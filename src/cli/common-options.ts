import type { OptionSpec, ParsedArgs } from './command';
import { loadConfig, type LoadedConfig } from '../config/load';
import { UsageError } from '../util/errors';

export const CONFIG_OPTION: Record<string, OptionSpec> = {
  config: { type: 'string', description: 'config file (default: tool_calling_experiment/config.json when present)', valueName: 'FILE' },
};

export const DB_OPTION: Record<string, OptionSpec> = {
  db: { type: 'string', description: 'experiment database (default: paths.db of the config)', valueName: 'PATH' },
};

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function int(args: ParsedArgs, name: string, opts: { min?: number } = {}): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} expects an integer (found '${v}')`);
  const n = Number(v);
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${name} must be at least ${opts.min} (found ${n})`);
  return n;
}

/** Loads the config, with `--config` and any dotted-path overrides. */
export function configFrom(args: ParsedArgs, overrides: Record<string, unknown> = {}): LoadedConfig {
  return loadConfig({ file: str(args, 'config'), overrides });
}
