// Samples from an MDS dataset through the config's field -> column mapping.
// The real dataset's column names are not known in advance; a field mapped
// to "" is absent (null) in every sample, except sample_id, which then
// defaults to the global sample index.
import type { Sample } from '../domain/sample';
import { TceError } from '../util/errors';
import { MdsReader, type MdsReaderOptions } from './mds/reader';
import { memoizedIds } from './mds/ids-memo';
import { FieldError, SAMPLE_FIELDS, checkUniqueIds, sampleFromFields, toSampleId, type SampleField } from './sample-fields';

export type FieldMapping = Record<SampleField, string>;

/** Chooses, from every sample_id of a dataset (in row order), the ids to load. */
export type PickSamples = (ids: readonly number[]) => ReadonlySet<number>;

/** Every row's sample_id, read from the id column alone (cheap: no images,
 * no shard decoded: MdsReader.column), and remembered for the same files
 * (ids-memo.ts); repeats fail as they would in a full read. */
function readIds(reader: MdsReader, dir: string, idColumn: [number, string] | undefined, validateHashes: boolean): readonly number[] {
  if (!idColumn) return Array.from({ length: reader.length }, (_v, i) => i);
  // With hash checks on, every read hashes the shards: nothing is remembered.
  if (validateHashes) return readIdColumn(reader, dir, idColumn);
  return memoizedIds(reader, idColumn[1], () => readIdColumn(reader, dir, idColumn));
}

function readIdColumn(reader: MdsReader, dir: string, idColumn: [number, string]): number[] {
  const ids: number[] = new Array(reader.length);
  for (const { index, value } of reader.column(idColumn[0])) {
    try {
      ids[index] = toSampleId(value);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      throw new TceError('DATA_ROW', `${dir}: sample ${index}, field 'sample_id' (column '${idColumn[1]}'): ${e.message}`, 'fix the dataset, or map the field to another column in dataset.mapping');
    }
  }
  checkUniqueIds(ids.map((sampleId) => ({ sampleId })), dir, 'sample');
  return ids;
}

/** The dataset's samples through the mapping; with `pick`, only the rows
 * whose sample_id it keeps are decoded (a --limit run does not read every
 * image), the others are neither read nor validated. */
export function readMdsSamples(dir: string, mapping: FieldMapping, opts: MdsReaderOptions = {}, pick?: PickSamples): Sample[] {
  const reader = MdsReader.open(dir, opts);
  if (reader.length === 0 || reader.columns.length === 0) throw new TceError('MDS_EMPTY', `${reader.index.file}: the dataset holds no samples (${reader.index.shards.length} shards)`, 'point dataset.path at the folder of the written MDS dataset');
  const cols: Array<[SampleField, number, string]> = [];
  for (const f of SAMPLE_FIELDS) {
    const name = mapping[f];
    if (name === '') continue;
    const j = reader.columns.findIndex((c) => c.name === name);
    if (j < 0) throw new TceError('MDS_MAPPING', `${reader.index.file}: dataset.mapping.${f} names column '${name}', which the dataset does not have (columns: ${reader.columns.map((c) => `${c.name} (${c.encoding})`).join(', ')})`, 'fix dataset.mapping in the config; `tce inspect-dataset` shows the columns with example values');
    cols.push([f, j, name]);
  }
  const indices = cols.map((c) => c[1]);
  const rows = pick ? pickedRows(reader, dir, cols, pick, opts.validateHashes ?? false) : null;
  const samples: Sample[] = new Array(reader.length);
  const records = rows ? rows.map((index) => ({ index, values: reader.get(index, indices) })) : reader.samples({ columns: indices });
  for (const { index, values } of records) {
    const fields: Partial<Record<SampleField, unknown>> = { sample_id: index };
    for (const [f, , name] of cols) fields[f] = values[name];
    try {
      samples[index] = sampleFromFields(fields);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      const column = cols.find((c) => c[0] === e.field)?.[2] ?? e.field;
      throw new TceError('DATA_ROW', `${dir}: sample ${index}, field '${e.field}' (column '${column}'): ${e.message}`, 'fix the dataset, or map the field to another column in dataset.mapping');
    }
  }
  if (rows) return rows.map((i) => samples[i]!);
  checkUniqueIds(samples, dir, 'sample');
  return samples;
}

/** Row indices (ascending) of the samples `pick` keeps. */
function pickedRows(reader: MdsReader, dir: string, cols: Array<[SampleField, number, string]>, pick: PickSamples, validateHashes: boolean): number[] {
  const idCol = cols.find((c) => c[0] === 'sample_id');
  const ids = readIds(reader, dir, idCol ? [idCol[1], idCol[2]] : undefined, validateHashes);
  const keep = pick(ids);
  const rows: number[] = [];
  ids.forEach((id, i) => { if (keep.has(id)) rows.push(i); });
  return rows;
}
