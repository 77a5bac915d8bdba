import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface ParsedArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

/** One `tce` subcommand. Registered once, with its name and summary, in
 * commands/index.ts. */
export interface Command {
  /** Positional arguments as shown in usage, e.g. "NAME 'JSON-ARGS'". */
  positionals?: string;
  /** Longer help shown under usage. */
  description?: string;
  options: Record<string, OptionSpec>;
  allowPositionals?: boolean;
  run(args: ParsedArgs): Promise<number>;
}
