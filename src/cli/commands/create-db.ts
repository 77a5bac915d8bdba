import type { Command } from '../command';
import { CONFIG_OPTION, DB_OPTION, configFrom, str } from '../common-options';
import { openDb } from '../../store/db';

export const createDbCommand: Command = {
  description: 'Creates the four tables of the plan with every column and index, plus tce\'s additions. Safe to run again.',
  options: { ...CONFIG_OPTION, ...DB_OPTION },
  async run(args) {
    const file = str(args, 'db') ?? configFrom(args).config.paths.db;
    const db = openDb(file);
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    db.close();
    process.stdout.write(`${file}: schema version ${version}; tables: ${tables.join(', ')}\n`);
    return 0;
  },
};
