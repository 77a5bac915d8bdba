import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigSchema, type Config } from './schema';
import { TceError } from '../util/errors';
import { formatPath, parseJsonFile } from '../util/json-file';

export const DEFAULT_CONFIG_PATH = 'tool_calling_experiment/config.json';

function describeFound(root: unknown, path: PropertyKey[]): string {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return 'nothing';
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return `number ${v} (out of range)`;
  const shown = JSON.stringify(v);
  const kind = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  return `${kind} ${shown && shown.length > 60 ? shown.slice(0, 57) + '...' : shown}`;
}

/** Keys that were renamed: a config that still has one is told the new name
 * rather than only "Unrecognized key". */
export const RENAMED_KEYS: Readonly<Record<string, string>> = {
  'backend.simulator.tokensPerDelta': 'backend.streamInterval (vLLM\'s --stream-interval, used by the simulator and by spawned vllm serve alike)',
};

function issueLines(iss: z.core.$ZodIssue, raw: unknown, source: string): string[] {
  const line = `${source}: ${formatPath(iss.path)}: ${iss.message} (found ${describeFound(raw, iss.path)})`;
  if (iss.code !== 'unrecognized_keys') return [line];
  const renamed = iss.keys.map((k) => formatPath([...iss.path, k])).filter((at) => RENAMED_KEYS[at] !== undefined);
  const out = renamed.map((at) => `${source}: ${at}: this key was replaced by ${RENAMED_KEYS[at]}; rename it`);
  return renamed.length === iss.keys.length ? out : [...out, line];
}

/** Validates a raw config object; on failure names the file, the field path,
 * what was expected and what was found. */
export function parseConfig(raw: unknown, source: string): Config {
  const r = ConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.flatMap((iss) => issueLines(iss, raw, source));
  throw new TceError('CONFIG_INVALID', `invalid configuration\n${lines.join('\n')}`, `fix the field(s) above, or see docs/config.md; \`tce config --schema\` prints the schema`);
}

/** Sets a dotted path ("run.maxTurns") in a plain object, creating parents. */
export function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (next === undefined || next === null || typeof next !== 'object') cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

export interface LoadOptions {
  /** Explicit --config path; when absent the default path is read if present. */
  file?: string | undefined;
  /** CLI overrides as dotted path -> value (already typed). */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  /** Where it came from: the file, or "(defaults)". */
  source: string;
}

/** Config files are small JSON texts; a device or FIFO would block the read
 * forever and a huge file is a mistake. */
const MAX_CONFIG_BYTES = 4 << 20;

function readConfigText(file: string): string {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new TceError('CONFIG_UNREADABLE', `${file}: not a regular file (${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : 'a device or socket'}); --config expects a JSON file`, 'pass an existing JSON file with --config');
    if (st.size > MAX_CONFIG_BYTES) throw new TceError('CONFIG_INVALID', `${file}: ${st.size} bytes is too large for a config file (at most ${MAX_CONFIG_BYTES})`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof TceError) throw e;
    throw new TceError('CONFIG_UNREADABLE', `cannot read config ${file}: ${(e as Error).message}`, 'pass an existing file with --config');
  }
  // Editors on Windows write a byte-order mark; it is not part of the JSON.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** JSON turns 1e400 into Infinity, which the schema would report as "null". */
function checkFiniteNumbers(v: unknown, file: string, at: PropertyKey[] = []): void {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new TceError('CONFIG_INVALID', `invalid configuration\n${file}: ${formatPath(at)}: number out of range (too large to represent; found ${v})`, 'use a finite number');
  if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) checkFiniteNumbers(x, file, [...at, Array.isArray(v) ? Number(k) : k]);
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const file = opts.file ?? (fs.existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  let raw: Record<string, unknown> = {};
  if (file !== undefined) {
    raw = parseJsonFile(file, z.unknown(), 'CONFIG_INVALID', { read: readConfigText }) as Record<string, unknown>;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new TceError('CONFIG_INVALID', `${file}: (root): expected an object (found ${describeFound(raw, [])})`);
    }
    checkFiniteNumbers(raw, file);
  }
  const source = file ?? '(defaults)';
  const fromFile = parseConfig(raw, source);
  const overrides = Object.entries(opts.overrides ?? {}).filter(([, v]) => v !== undefined);
  const given = (section: string, key: string) => (raw[section] as Record<string, unknown> | undefined)?.[key] !== undefined || overrides.some(([k]) => k === `${section}.${key}`);
  const explicit = { imageMode: given('dataset', 'imageMode'), streamInterval: given('backend', 'streamInterval') };
  if (overrides.length === 0) return { config: contextDefaults(fromFile, explicit), source };
  // Flags apply on top of the resolved file, so overriding one nested field
  // (models.verifier_8b.gpuId) keeps the defaults of its siblings.
  const merged = structuredClone(fromFile) as unknown as Record<string, unknown>;
  for (const [k, v] of overrides) setPath(merged, k, v);
  return { config: contextDefaults(parseConfig(merged, `${source} + command-line flags`), explicit), source };
}

/** The defaults that depend on other fields, for the fields not given. */
function contextDefaults(c: Config, explicit: { imageMode: boolean; streamInterval: boolean }): Config {
  return streamIntervalDefault(imageModeDefault(c, explicit.imageMode), explicit.streamInterval);
}

/** Spawned vLLM servers read images from files by default: a data URL per
 * request makes the server decode base64 and the client hold every image's
 * text (real dashcam JPEGs at 8,613 samples). Unset, dataset.imageMode is
 * "file" for backend.kind "vllm" and "data-url" otherwise. */
function imageModeDefault(c: Config, explicit: boolean): Config {
  if (explicit || c.backend.kind !== 'vllm') return c;
  return { ...c, dataset: { ...c.dataset, imageMode: 'file' } };
}

/** vLLM's hermes parser lost streamed tool calls at --stream-interval > 1
 * until vLLM PR #38168 (opened 2026-03-26): with run.parseMode "server" it is
 * that parser that reads the stream, so, unset, backend.streamInterval is 1
 * there (vLLM's default); tce's own parser reads any grouping (test 59). */
function streamIntervalDefault(c: Config, explicit: boolean): Config {
  if (explicit || c.run.parseMode !== 'server') return c;
  return { ...c, backend: { ...c.backend, streamInterval: 1 } };
}

export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input' });
}

/** Stable hash of the parts of a config that change results (for resume). */
export function configHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 16);
}

export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const keys = Object.keys(v as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
