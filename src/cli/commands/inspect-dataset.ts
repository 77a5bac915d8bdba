import type { Command } from '../command';
import { flag, int } from '../common-options';
import { UsageError } from '../../util/errors';
import { MdsReader } from '../../data/mds/reader';
import { valueSummary, valueToJson } from '../../data/mds/value-view';

export const inspectDatasetCommand: Command = {
  positionals: 'PATH',
  description: 'PATH is the folder holding index.json. Every shard is opened and checked (size, sample count, offsets) before anything is printed. Use the column names shown to write dataset.mapping in the config. --json prints one JSON line per sample with every column decoded (bytes-like values as {len, sha256}, images also with width and height).',
  allowPositionals: true,
  options: {
    json: { type: 'boolean', description: 'one JSON line per sample (the first --rows, or every sample with --all)' },
    all: { type: 'boolean', description: 'with --json: every sample' },
    rows: { type: 'string', description: 'rows to show (default 3)', valueName: 'N' },
    'verify-hashes': { type: 'boolean', description: 'also check the shard hashes that index.json lists' },
  },
  async run(args) {
    const [dir, ...extra] = args.positionals;
    if (!dir || extra.length) throw new UsageError('inspect-dataset takes one PATH (the folder with index.json)');
    if (flag(args, 'all') && !flag(args, 'json')) throw new UsageError('--all only applies with --json');
    const rows = int(args, 'rows', { min: 0 }) ?? 3;
    const reader = MdsReader.open(dir, { validateHashes: flag(args, 'verify-hashes'), maxCachedShards: 2 });
    reader.checkShards();
    const end = flag(args, 'all') ? reader.length : Math.min(rows, reader.length);
    const out = process.stdout;
    if (flag(args, 'json')) {
      for (const { index, values } of reader.samples({ end })) {
        const obj: Record<string, unknown> = { _index: index };
        for (const c of reader.columns) obj[c.name] = valueToJson(values[c.name]!, c.encoding);
        out.write(JSON.stringify(obj) + '\n');
      }
      return 0;
    }
    const shards = reader.index.shards;
    const comp = [...new Set(shards.map((s) => s.info.compression ?? 'none'))].join(', ');
    const lines = [`${dir}: ${reader.length} samples in ${shards.length} shard(s); compression: ${comp}; hashes: ${[...new Set(shards.flatMap((s) => s.info.hashes))].join(', ') || 'none'}`, '', 'columns:'];
    const w = Math.max(...reader.columns.map((c) => c.name.length), 6);
    for (const c of reader.columns) lines.push(`  ${c.name.padEnd(w)}  ${c.encoding}${c.size === null ? '' : ` (${c.size} bytes)`}`);
    for (const { index, values } of reader.samples({ end })) {
      lines.push('', `sample ${index}:`);
      for (const c of reader.columns) lines.push(`  ${c.name.padEnd(w)}  ${valueSummary(values[c.name]!, c.encoding)}`);
    }
    out.write(lines.join('\n') + '\n');
    return 0;
  },
};
