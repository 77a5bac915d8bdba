import type { Command } from '../command';
import { CONFIG_OPTION, configFrom, flag, int, str } from '../common-options';
import { UsageError } from '../../util/errors';
import { createToolExecutor } from '../../tools/executor';
import { TOOL_NAMES } from '../../protocol/tools';
import { loadToolStats } from '../../tools/stats';
import { oracleTruthFor } from '../../run/tool-stats';
import type { ToolInvocation } from '../../tools/types';

export const toolCommand: Command = {
  positionals: "NAME 'JSON-ARGS'",
  description: `Validates the arguments with the tool's zod schema and runs it on the tool statistics (--stats, default paths.toolStats), or, with --oracle, on the ground truth of --sample-id read from the source database (--from, default: the one the statistics were built from). With cross-fitted statistics, --sample-id selects the folds that exclude that sample. Tools: ${TOOL_NAMES.join(', ')}. Exit 1 when the call is invalid (the error response is still printed).`,
  allowPositionals: true,
  options: {
    ...CONFIG_OPTION,
    stats: { type: 'string', description: 'tool statistics file (default: paths.toolStats of the config)', valueName: 'FILE' },
    oracle: { type: 'boolean', description: 'answer from the sample\'s ground truth (the oracle condition)' },
    'sample-id': { type: 'string', description: 'the calling sample (needed with --oracle)', valueName: 'N' },
    from: { type: 'string', description: 'self_consistency.db holding the ground truth for --oracle', valueName: 'FILE' },
  },
  async run(args) {
    const [name, json, ...extra] = args.positionals;
    if (name === undefined || json === undefined || extra.length) throw new UsageError(`expected NAME and 'JSON-ARGS' (found ${args.positionals.length} positional arguments)`, `example: tce tool check_confusion_risk '{"predicted_scene": "incident_zone"}'`);
    const sampleId = int(args, 'sample-id');
    if (flag(args, 'oracle') && sampleId === undefined) throw new UsageError('--oracle needs --sample-id N: the oracle answers from that sample\'s ground truth');
    const { config } = configFrom(args);
    const stats = loadToolStats(str(args, 'stats') ?? config.paths.toolStats);
    const call: ToolInvocation = { id: 0, sampleId: sampleId ?? -1, name, arguments: json, offered: TOOL_NAMES };
    if (flag(args, 'oracle')) {
      const from = str(args, 'from') ?? stats.source?.file;
      if (from === undefined) throw new UsageError('--oracle needs --from FILE: these statistics do not record their source');
      call.oracle = oracleTruthFor(from, sampleId!, config);
    }
    const executor = createToolExecutor({ stats, dispatch: config.tools.dispatch, timeoutMs: config.tools.timeoutMs });
    try {
      const [out] = await executor.executeBatch([call]);
      process.stdout.write(out!.responseJson + '\n');
      if (out!.validity.error !== null) {
        process.stderr.write(`tce: tool call not executed: ${out!.validity.error}\n`);
        return 1;
      }
      return 0;
    } finally {
      await executor.close();
    }
  },
};
