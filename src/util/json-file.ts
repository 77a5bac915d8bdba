// Reading a JSON file that tce or the user wrote (config, tool statistics,
// run folders, MDS indexes), once: read, parse, validate with a zod schema,
// and on any failure a TceError naming the file and the field.
import fs from 'node:fs';
import type { z } from 'zod';
import { TceError } from './errors';

/** A zod issue path as written in messages: `shards[1].column_names`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('') || '(root)';
}

export interface JsonFileOptions {
  /** Error code when the file cannot be read (default: the code). */
  readCode?: string;
  hint?: string;
  /** Hint when the file cannot be read (default: hint). */
  readHint?: string;
  /** Reads the text (default: the file as UTF-8); may throw its own TceError. */
  read?: (file: string) => string;
  /** Parses the text (default: JSON.parse). */
  parse?: (text: string) => unknown;
}

/** The file's content, validated by `schema`; throws TceError(code) with
 * `FILE: cannot read`, `FILE: not valid JSON` or `FILE: PATH: problem`
 * (up to five issues, one a line). */
export function parseJsonFile<T>(file: string, schema: z.ZodType<T>, code: string, o: JsonFileOptions = {}): T {
  let text: string;
  try {
    text = o.read ? o.read(file) : fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof TceError) throw e;
    throw new TceError(o.readCode ?? code, `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, o.readHint ?? o.hint);
  }
  let raw: unknown;
  try {
    raw = o.parse ? o.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new TceError(code, `${file}: not valid JSON: ${(e as Error).message}`, o.hint);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new TceError(code, r.error.issues.slice(0, 5).map((iss) => `${file}: ${formatPath(iss.path)}: ${iss.message}`).join('\n'), o.hint);
  return r.data;
}
