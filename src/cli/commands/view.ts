import type { Command } from '../command';
import { CONFIG_OPTION, DB_OPTION, configFrom, flag, int, str } from '../common-options';
import { ViewStore } from '../../view/view-store';
import { datasetImages, NO_IMAGES } from '../../view/images';
import { startViewServer } from '../../view/server';
import { ListCache } from '../../view/list-cache';
import { UsageError } from '../../util/errors';

// `tce view`: browse a run's samples across conditions in a local browser.
export const viewCommand: Command = {
  description: 'Serves the suite, each condition\'s samples (filterable by flip, diagnostic tag, class, tool, status) and each sample across all conditions, turn by turn. Opens the database read-only; works while a run is still writing it. Images come from the configured dataset.',
  options: {
    ...CONFIG_OPTION,
    ...DB_OPTION,
    port: { type: 'string', description: 'port on 127.0.0.1 (default: a free one)', valueName: 'N' },
    'no-images': { type: 'boolean', description: 'do not read the dataset for sample images' },
  },
  async run(args) {
    const { config } = configFrom(args);
    const port = int(args, 'port', { min: 0 }) ?? 0;
    if (port > 65535) throw new UsageError(`--port must be at most 65535 (found ${port})`);
    const store = ViewStore.open(str(args, 'db') ?? config.paths.db);
    const note = store.schemaNote();
    if (note) process.stderr.write(`tce view: ${note}\n`);
    const lists = new ListCache(store);
    const images = flag(args, 'no-images') ? NO_IMAGES : datasetImages(config);
    const server = await startViewServer({ store, lists, images, note }, port)
      .catch(async (e: Error) => { await lists.close(); store.close(); throw e; });
    lists.prewarm();
    images.preload();
    process.stdout.write(`${server.url}\n`);
    process.stderr.write(`tce view: serving ${store.db.name} read-only; Ctrl-C stops\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
    await lists.close();
    store.close();
    return 0;
  },
};
