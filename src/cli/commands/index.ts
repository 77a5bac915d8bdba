import type { Command } from '../command';
import { configCommand } from './config';
import { createDbCommand } from './create-db';
import { startCommand } from './start';

// Every `tce` subcommand, in the order `tce --help` lists them.
export const COMMANDS: Command[] = [
  configCommand,
  createDbCommand,
  startCommand,
];
