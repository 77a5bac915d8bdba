// Which config fields change what the experiment produces. Every leaf of the
// config schema is marked, in schema.ts, either `results` (part of the config
// hash: a resumed suite must match it) or `operational` (how, where or how
// fast it runs: never breaks --resume). The hash is computed from the marks;
// a leaf without a mark is an error, so a new field cannot be forgotten.
import { z } from 'zod';
import { TceError } from '../util/errors';

export type Effect = 'results' | 'operational';

const effects = z.registry<{ effect: Effect }>();

/** Changes what the experiment produces (rows, metrics): hashed. */
export function results<T extends z.ZodType>(s: T): T {
  effects.add(s as z.ZodType, { effect: 'results' });
  return s;
}

/** Changes only how, where or how fast the experiment runs: not hashed. */
export function operational<T extends z.ZodType>(s: T): T {
  effects.add(s as z.ZodType, { effect: 'operational' });
  return s;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

const defOf = (s: z.ZodType): Def => s._zod.def as unknown as Def;
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly']);

/** The mark on a field (on it or on any wrapper of it) and its innermost schema. */
function unwrap(s: z.ZodType): { effect: Effect | undefined; inner: z.ZodType } {
  let cur = s;
  let effect = effects.get(cur)?.effect;
  while (WRAPPERS.has(defOf(cur).type) && defOf(cur).innerType) {
    cur = defOf(cur).innerType!;
    effect ??= effects.get(cur)?.effect;
  }
  return { effect, inner: cur };
}

/** A field: a leaf with its effect, an object of fields, or an array of objects. */
type Node = { kind: 'leaf'; effect: Effect } | { kind: 'object'; fields: Record<string, Node> } | { kind: 'array'; element: Node };

function classify(s: z.ZodType, path: string): Node {
  const { effect, inner } = unwrap(s);
  const d = defOf(inner);
  const isObject = d.type === 'object' && d.shape !== undefined;
  if (isObject && effect) throw new TceError('CONFIG_EFFECT', `config schema: ${path} is an object; mark its fields, not the object`, 'src/config/effects.ts');
  if (isObject) return { kind: 'object', fields: Object.fromEntries(Object.entries(d.shape!).map(([k, v]) => [k, classify(v, path ? `${path}.${k}` : k)])) };
  if (!effect && d.type === 'array' && d.element && defOf(unwrap(d.element).inner).type === 'object') return { kind: 'array', element: classify(d.element, `${path}[]`) };
  if (!effect) throw new TceError('CONFIG_EFFECT', `config schema: ${path} is not marked results() or operational()`, 'mark it in src/config/schema.ts: does it change what the experiment produces?');
  return { kind: 'leaf', effect };
}

/** Every leaf of a schema with its effect, by dotted path (arrays as `x[]`). */
export function fieldEffects(schema: z.ZodType): Map<string, Effect> {
  const out = new Map<string, Effect>();
  const walk = (n: Node, path: string): void => {
    if (n.kind === 'leaf') out.set(path, n.effect);
    else if (n.kind === 'array') walk(n.element, `${path}[]`);
    else for (const [k, f] of Object.entries(n.fields)) walk(f, path ? `${path}.${k}` : k);
  };
  walk(classify(schema, ''), '');
  return out;
}

const OMIT = Symbol('omit');

function view(n: Node, v: unknown): unknown {
  if (n.kind === 'leaf') return n.effect === 'results' && v !== undefined ? v : OMIT;
  if (n.kind === 'array') return Array.isArray(v) ? v.map((e) => { const x = view(n.element, e); return x === OMIT ? {} : x; }) : OMIT;
  if (v === null || typeof v !== 'object') return OMIT;
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(n.fields)) {
    const x = view(f, (v as Record<string, unknown>)[k]);
    if (x !== OMIT) out[k] = x;
  }
  return Object.keys(out).length ? out : OMIT;
}

/** The parts of a parsed value that change results, as marked in its schema. */
export function resultsView(schema: z.ZodType, value: unknown): Record<string, unknown> {
  const v = view(classify(schema, ''), value);
  return v === OMIT ? {} : (v as Record<string, unknown>);
}
