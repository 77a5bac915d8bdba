// index.json of an MDS dataset (version 2), validated once at the edge.
// The key set is the reference library's exactly: it passes every key as a
// constructor argument, so extra keys would not load there either.
import path from 'node:path';
import { z } from 'zod';
import { parseJsonFile } from '../../util/json-file';
import { TceError } from '../../util/errors';
import { parsePythonJson } from './python-json';
import { codecFor, MdsValueError, type Codec } from './encodings';

const FileInfo = z.strictObject({
  basename: z.string().min(1),
  bytes: z.int().nonnegative(),
  hashes: z.record(z.string(), z.string()).default({}),
});
export type FileInfo = z.infer<typeof FileInfo>;

const ShardSchema = z.strictObject({
  version: z.literal(2),
  format: z.literal('mds'),
  column_names: z.array(z.string()),
  column_encodings: z.array(z.string()),
  column_sizes: z.array(z.int().nonnegative().nullable()),
  compression: z.string().nullable(),
  hashes: z.array(z.string()),
  size_limit: z.union([z.int(), z.string()]).nullable(),
  samples: z.int().nonnegative(),
  raw_data: FileInfo,
  zip_data: FileInfo.nullable(),
});
export type ShardInfo = z.infer<typeof ShardSchema>;

const IndexSchema = z.strictObject({ version: z.literal(2), shards: z.array(z.unknown()) });

export interface ShardEntry {
  /** Position in index.json, 0-based. */
  index: number;
  info: ShardInfo;
  codecs: Codec[];
  /** Global index of this shard's first sample. */
  first: number;
}

export interface MdsIndex {
  root: string;
  file: string;
  shards: ShardEntry[];
  total: number;
}

const INDEX_HINT = 'index.json must be the version-2 index the MosaicML Streaming writer produces';

function fail(file: string, where: string, msg: string): never {
  throw new TceError('MDS_INDEX', `${file}: ${where}${msg}`, INDEX_HINT);
}

/** Resolves a shard basename against the dataset root, refusing paths that
 * would leave it (basenames of merged indexes hold subfolders, nothing more). */
export function shardPath(root: string, basename: string, indexFile: string, shard: number): string {
  const p = path.resolve(root, basename);
  const rel = path.relative(root, p);
  if (rel.startsWith('..') || path.isAbsolute(rel)) fail(indexFile, `shards[${shard}]: `, `basename '${basename}' points outside the dataset folder`);
  return p;
}

export function readMdsIndex(root: string): MdsIndex {
  const file = path.join(root, 'index.json');
  const top = parseJsonFile(file, IndexSchema, 'MDS_INDEX', { readCode: 'MDS_NOT_FOUND', readHint: 'pass the folder that holds index.json', hint: INDEX_HINT, parse: parsePythonJson });
  const shards: ShardEntry[] = [];
  let total = 0;
  top.shards.forEach((s, i) => {
    const r = ShardSchema.safeParse(s);
    if (!r.success) {
      const iss = r.error.issues[0]!;
      fail(file, `shards[${i}].${iss.path.join('.')}: `, iss.message);
    }
    const info = r.data;
    const n = info.column_names.length;
    if (info.column_encodings.length !== n || info.column_sizes.length !== n) fail(file, `shards[${i}]: `, `column_names (${n}), column_encodings (${info.column_encodings.length}) and column_sizes (${info.column_sizes.length}) differ in length`);
    const codecs = info.column_encodings.map((enc, j) => {
      let c: Codec;
      try {
        c = codecFor(enc);
      } catch (e) {
        if (e instanceof MdsValueError) fail(file, `shards[${i}] column '${info.column_names[j]}': `, e.message);
        throw e;
      }
      const declared = info.column_sizes[j] ?? null;
      if ((declared || null) !== c.size) fail(file, `shards[${i}] column '${info.column_names[j]}': `, `column_sizes says ${declared} but encoding '${enc}' has ${c.size === null ? 'variable size' : `${c.size} bytes`}`);
      return c;
    });
    shards.push({ index: i, info, codecs, first: total });
    total += info.samples;
  });
  return { root, file, shards, total };
}
