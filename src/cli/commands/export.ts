import path from 'node:path';
import type { Command } from '../command';
import { CONFIG_OPTION, DB_OPTION, configFrom, flag, str } from '../common-options';
import { openDb } from '../../store/db';
import { exportBatch, exportSft, IMAGE_REF, type ImageMode } from '../../report/exports';
import { loadExperimentData } from '../../data/load';
import { imageDataUrl, imageSha256, resampleOf } from '../../data/image-payload';
import type { Config } from '../../config/schema';
import { TceError, UsageError } from '../../util/errors';

/** Resolves the driver's image references against the configured dataset,
 * checking each image's sha256 so a different dataset cannot slip in. */
export async function inlineImages(config: Config): Promise<ImageMode> {
  const data = await loadExperimentData(config);
  const byId = new Map(data.samples.map((s) => [s.sampleId, s]));
  const budget = config.dataset.imagePixelBudget;
  return {
    kind: 'inline',
    resolve(ref) {
      const m = IMAGE_REF.exec(ref);
      if (!m) return ref; // already a URL the server can read
      const s = byId.get(Number(m[2]));
      if (!s) throw new TceError('EXPORT_IMAGE', `${data.source}: no sample_id ${m[2]} for image reference ${ref}`, 'export with --images ref, or point the config at the dataset of this run');
      if (imageSha256(s) !== m[1]) throw new TceError('EXPORT_IMAGE', `${data.source}: sample_id ${m[2]}: image sha256 differs from the one the run sent`, 'point the config at the dataset of this run, or export with --images ref');
      return imageDataUrl(s, budget !== undefined ? { pixelBudget: budget, resample: resampleOf(config.dataset) } : {});
    },
  };
}

export const exportCommand: Command = {
  positionals: 'sft|batch',
  allowPositionals: true,
  options: {
    ...CONFIG_OPTION,
    ...DB_OPTION,
    out: { type: 'string', description: 'output file (default: <reportsDir>/sft_tool_calls.jsonl or batch_requests.jsonl)', valueName: 'FILE' },
    experiment: { type: 'string', multiple: true, description: 'only these experiment ids (repeatable)', valueName: 'ID' },
    images: { type: 'string', description: 'inline (data URLs from the configured dataset), ref (as recorded) or strip ("<image>" placeholder); default inline', valueName: 'MODE' },
    'include-incorrect': { type: 'boolean', description: 'sft: also steps of samples whose final scene is wrong' },
    stage: { type: 'string', description: 'batch: only requests of this stage (predict, verify, stage_scene, ...)', valueName: 'STAGE' },
  },
  async run(args) {
    const kind = args.positionals[0];
    if (args.positionals.length !== 1 || (kind !== 'sft' && kind !== 'batch')) throw new UsageError(`expected one of: sft, batch (found ${args.positionals.length ? `'${args.positionals.join(' ')}'` : 'nothing'})`, 'run `tce export --help`');
    const imageKind = str(args, 'images') ?? 'inline';
    if (imageKind !== 'inline' && imageKind !== 'ref' && imageKind !== 'strip') throw new UsageError(`--images expects inline, ref or strip (found '${imageKind}')`);
    const { config } = configFrom(args);
    const db = openDb(str(args, 'db') ?? config.paths.db, { create: false });
    const ids = (args.values['experiment'] as string[] | undefined) ?? [];
    try {
      const images: ImageMode = imageKind === 'inline' ? await inlineImages(config) : { kind: imageKind };
      const stage = str(args, 'stage');
      const s = kind === 'sft'
        ? exportSft(db, str(args, 'out') ?? path.join(config.paths.reportsDir, 'sft_tool_calls.jsonl'), { includeIncorrect: flag(args, 'include-incorrect'), images, experimentIds: ids })
        : exportBatch(db, str(args, 'out') ?? path.join(config.paths.reportsDir, 'batch_requests.jsonl'), { experimentIds: ids, images, ...(stage !== undefined ? { stage } : {}) });
      const sk = Object.entries(s.skipped).map(([k, n]) => `${n} ${k}`).join(', ');
      process.stdout.write(`wrote ${s.written} lines to ${s.file}${sk ? ` (skipped: ${sk})` : ''}\n`);
    } finally {
      db.close();
    }
    return 0;
  },
};
