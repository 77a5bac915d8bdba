// Samples from a JSONL manifest: one JSON object per line, keys mapped by
// the same dataset.mapping as MDS columns; the image is a file path
// (relative to the manifest) or a data: URL. Blank lines are skipped; line
// numbers in errors are 1-based, as editors show them.
import fs from 'node:fs';
import path from 'node:path';
import type { Sample } from '../domain/sample';
import { TceError } from '../util/errors';
import { FieldError, SAMPLE_FIELDS, checkUniqueIds, sampleFromFields, type SampleField } from './sample-fields';
import type { FieldMapping } from './mds-source';

function imageBytes(v: unknown, baseDir: string): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new FieldError('image', `expected a file path or data URL, found ${typeof v}`);
  const m = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(v);
  if (m) {
    if (!m[2]) throw new FieldError('image', 'data URL is not base64-encoded');
    return Buffer.from(m[3]!, 'base64');
  }
  const file = path.resolve(baseDir, v.startsWith('file://') ? new URL(v).pathname : v);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new FieldError('image', `cannot read image file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function readJsonlSamples(file: string, mapping: FieldMapping): Sample[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TceError('DATA_NOT_FOUND', `${file}: cannot read the JSONL manifest (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'set dataset.path to the manifest');
  }
  const baseDir = path.dirname(path.resolve(file));
  const samples: Sample[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}: line ${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new TceError('DATA_ROW', `${where}: not valid JSON (${(e as Error).message})`, 'each line must be one JSON object');
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new TceError('DATA_ROW', `${where}: expected a JSON object`, 'each line must be one JSON object');
    const rec = obj as Record<string, unknown>;
    // Without a sample_id key, samples are numbered in manifest order.
    const fields: Partial<Record<SampleField, unknown>> = { sample_id: samples.length };
    for (const f of SAMPLE_FIELDS) if (mapping[f] !== '') fields[f] = rec[mapping[f]];
    try {
      if (fields.sample_id === undefined) throw new FieldError('sample_id', `missing (key '${mapping.sample_id}')`);
      fields.image = imageBytes(fields.image, baseDir);
      samples.push(sampleFromFields(fields));
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      throw new TceError('DATA_ROW', `${where}, field '${e.field}' (key '${mapping[e.field as SampleField] ?? e.field}'): ${e.message}`, 'fix the line, or map the field to another key in dataset.mapping');
    }
  });
  checkUniqueIds(samples, file, 'sample');
  return samples;
}
