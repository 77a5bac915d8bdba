import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, flag } from '../common-options';
import { configJsonSchema } from '../../config/load';
import { configReference } from '../../config/doc';

export const configCommand: Command = {
  description: 'Reads tool_calling_experiment/config.json (or --config FILE), fills every default and prints the result as JSON.',
  options: {
    ...CONFIG_OPTION,
    schema: { type: 'boolean', description: 'print the JSON Schema of the config file instead' },
    reference: { type: 'boolean', description: 'print the field reference table of docs/config.md' },
  },
  async run(args) {
    if (flag(args, 'reference')) {
      process.stdout.write(configReference() + '\n');
      return 0;
    }
    if (flag(args, 'schema')) {
      process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
      return 0;
    }
    const { config } = configFrom(args);
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    return 0;
  },
};
