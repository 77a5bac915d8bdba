import type { Command } from '../command';
import { CONFIG_OPTION, DB_OPTION, configFrom, str } from '../common-options';
import { openDb } from '../../store/db';
import { rebuiltTurns, sentBody, type ImageMode } from '../../report/exports';
import { inlineImages } from './export';
import { TceError, UsageError } from '../../util/errors';

function wholeNumber(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${what} expects a whole number (found '${v}')`);
  return Number(v);
}

export const showRequestCommand: Command = {
  positionals: 'EXPERIMENT SAMPLE TURN',
  allowPositionals: true,
  options: {
    ...CONFIG_OPTION,
    ...DB_OPTION,
    images: { type: 'string', description: 'inline (data URLs from the configured dataset, as sent; default) or ref (the stored sha256 references)', valueName: 'MODE' },
  },
  async run(args) {
    const [experiment, sampleArg, turnArg] = args.positionals;
    if (args.positionals.length !== 3 || !experiment || !sampleArg || !turnArg) throw new UsageError(`expected EXPERIMENT SAMPLE TURN (found ${args.positionals.length} arguments)`, 'run `tce show-request --help`');
    const sample = wholeNumber(sampleArg, 'SAMPLE');
    const turn = wholeNumber(turnArg, 'TURN');
    const imageKind = str(args, 'images') ?? 'inline';
    if (imageKind !== 'inline' && imageKind !== 'ref') throw new UsageError(`--images expects inline or ref (found '${imageKind}')`);
    const { config } = configFrom(args);
    const db = openDb(str(args, 'db') ?? config.paths.db, { create: false });
    try {
      const images: ImageMode = imageKind === 'inline' ? await inlineImages(config) : { kind: 'ref' };
      for (const t of rebuiltTurns(db, { images, one: { experimentId: experiment, sampleId: sample, upToTurn: turn } })) {
        if (t.sample_id !== sample || t.turn_index !== turn) continue;
        if (!t.body) throw new TceError('SHOW_REQUEST', `experiment ${experiment} sample ${sample} turn ${turn}: ${t.problem ?? 'no request stored'}`);
        process.stdout.write(sentBody(t.body));
        return 0;
      }
      throw new TceError('SHOW_REQUEST', `no turn ${turn} of sample ${sample} in experiment ${experiment}`, 'list turns with `tce view` or SELECT experiment_id, sample_id, turn_index FROM turns');
    } finally {
      db.close();
    }
  },
};
