import type { Command } from '../command';
import { analyzeCommand } from './analyze';
import { reportCommand } from './report';
import { profileCommand } from './profile';
import { exportCommand } from './export';
import { configCommand } from './config';
import { createDbCommand } from './create-db';
import { buildToolsCommand } from './build-tools';
import { toolCommand } from './tool';
import { extractCommand } from './extract';
import { loadCommand } from './load';
import { startCommand } from './start';
import { synthCommand } from './synth';
import { inspectDatasetCommand } from './inspect-dataset';
import { serveSimCommand } from './serve-sim';
import { serveCheckCommand } from './serve-check';
import { runCommand } from './run';
import { predictCommand } from './predict';
import { oracleCommand } from './oracle';
import { verifyCommand } from './verify';
import { stagedCommand } from './staged';

// Every `tce` subcommand, in the order `tce --help` lists them.
export const COMMANDS: Command[] = [
  configCommand,
  createDbCommand,
  buildToolsCommand,
  toolCommand,
  extractCommand,
  loadCommand,
  startCommand,
  synthCommand,
  inspectDatasetCommand,
  serveSimCommand,
  serveCheckCommand,
  analyzeCommand,
  reportCommand,
  profileCommand,
  exportCommand,
  runCommand,
  predictCommand,
  oracleCommand,
  verifyCommand,
  stagedCommand,
];
