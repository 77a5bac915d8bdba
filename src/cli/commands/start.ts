import type { Command } from '../command';
import { CONFIG_OPTION, configFrom } from '../common-options';
import { openDb } from '../../store/db';

// `npm start`: the whole experiment on the embedded default. Until the
// driver lands it prepares what exists and says what it did.
export const startCommand: Command = {
  name: 'start',
  summary: 'run the whole experiment on the embedded default (synthetic fixture + simulator)',
  options: { ...CONFIG_OPTION },
  async run(args) {
    const { config } = configFrom(args);
    const db = openDb(config.paths.db);
    db.close();
    process.stdout.write(`created ${config.paths.db} (empty experiment schema); the run stages are not built yet\n`);
    return 0;
  },
};
