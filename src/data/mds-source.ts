// Samples from an MDS dataset through the config's field -> column mapping.
// The real dataset's column names are not known in advance; a field mapped
// to "" is absent (null) in every sample, except sample_id, which then
// defaults to the global sample index.
import type { Sample } from '../domain/sample';
import { TceError } from '../util/errors';
import { MdsReader, type MdsReaderOptions } from './mds/reader';
import { FieldError, SAMPLE_FIELDS, checkUniqueIds, sampleFromFields, type SampleField } from './sample-fields';

export type FieldMapping = Record<SampleField, string>;

export function readMdsSamples(dir: string, mapping: FieldMapping, opts: MdsReaderOptions = {}): Sample[] {
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
  const samples: Sample[] = new Array(reader.length);
  for (const { index, values } of reader.samples({ columns: indices })) {
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
  checkUniqueIds(samples, dir, 'sample');
  return samples;
}
