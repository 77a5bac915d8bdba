// docs/config.md's field reference, rendered from the zod schema itself so
// the documentation cannot drift from the validation (a test compares).
import { configJsonSchema } from './load';
import { ConfigSchema } from './schema';
import { fieldEffects, type Effect } from './effects';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  format?: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' | ');
  if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
  const t = Array.isArray(s.type) ? s.type.join('|') : s.type ?? 'any';
  if (t === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return `map of ${typeOf(s.additionalProperties)}`;
  const safe = (n: number | undefined) => n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER;
  const range = [safe(s.minimum) ? `≥ ${s.minimum}` : '', s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '', safe(s.maximum) ? `≤ ${s.maximum}` : ''].filter(Boolean).join(', ');
  return `${s.format ?? t}${range ? ` (${range})` : ''}`;
}

const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function rows(s: JsonSchema, prefix: string, effects: Map<string, Effect>, out: string[]): void {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    const dflt = v.default === undefined ? '' : `\`${JSON.stringify(v.default)}\``;
    const isObject = v.properties !== undefined;
    const effect = effects.get(p);
    const changes = effect === undefined ? '' : effect === 'results' ? 'yes' : 'no';
    out.push(`| \`${p}\` | ${isObject ? 'object' : cell(typeOf(v))} | ${isObject ? '' : cell(dflt)} | ${changes} | ${cell(v.description ?? '')} |`);
    if (isObject) rows(v, p, effects, out);
    if (v.type === 'array' && v.items?.properties) rows(v.items, `${p}[]`, effects, out);
  }
}

/** The field table of docs/config.md. */
export function configReference(): string {
  const out = ['| field | type | default | changes results | meaning |', '|---|---|---|---|---|'];
  rows(configJsonSchema() as JsonSchema, '', fieldEffects(ConfigSchema), out);
  return out.join('\n');
}
