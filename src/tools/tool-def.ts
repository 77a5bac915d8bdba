// What a tool is: one zod object schema (names, enums, descriptions,
// required) that both the OpenAI tool JSON and the argument check come
// from, plus how it answers from statistics and, in the oracle condition,
// from the sample's ground truth.
import { z } from 'zod';
import type { StatsTable } from './stats-schema';
import type { OracleTruth } from './types';

export type Verdict = 'plausible' | 'doubtful' | 'implausible';

/** A tool response before serialization: plain JSON data with a verdict. */
export type ToolAnswer = { verdict: Verdict; note: string } & Record<string, unknown>;

export type ToolParameters = z.ZodObject<Record<string, z.ZodType>>;

export interface ToolDef<P extends ToolParameters = ToolParameters> {
  name: string;
  description: string;
  parameters: P;
  /** Answer from the statistics the calling sample may see. */
  run(args: z.infer<P>, table: StatsTable): ToolAnswer | Promise<ToolAnswer>;
  /** Answer from the sample's ground truth (oracle condition). */
  oracle?(args: z.infer<P>, truth: OracleTruth): ToolAnswer | Promise<ToolAnswer>;
}

/** Keeps the argument type of `run` tied to the schema. */
export function defineTool<P extends ToolParameters>(def: ToolDef<P>): ToolDef {
  return def as unknown as ToolDef;
}

interface JsonProperty { type: string; enum?: string[]; description?: string }

function unwrapOptional(s: z.ZodType): { inner: z.ZodType; optional: boolean } {
  return s instanceof z.ZodOptional ? { inner: s.unwrap() as z.ZodType, optional: true } : { inner: s, optional: false };
}

function jsonProperty(key: string, field: z.ZodType, tool: string): JsonProperty {
  const { inner } = unwrapOptional(field);
  const description = field.description ?? inner.description;
  let prop: JsonProperty;
  if (inner instanceof z.ZodEnum) prop = { type: 'string', enum: inner.options.map(String) };
  else if (inner instanceof z.ZodNumber) prop = { type: inner.format === 'safeint' || inner.format === 'int32' ? 'integer' : 'number' };
  else if (inner instanceof z.ZodString) prop = { type: 'string' };
  else if (inner instanceof z.ZodBoolean) prop = { type: 'boolean' };
  else throw new TypeError(`tool ${tool}: parameter ${key} has a zod type the OpenAI converter does not know`);
  if (description !== undefined) prop.description = description;
  return prop;
}

// Derived from the schema once per tool: the executor consults these on every call.
const requiredCache = new WeakMap<ToolDef, string[]>();
const expectedCache = new WeakMap<ToolDef, Record<string, string>>();

export function requiredArgs(def: ToolDef): string[] {
  let r = requiredCache.get(def);
  if (!r) requiredCache.set(def, (r = Object.entries(def.parameters.shape).filter(([, f]) => !unwrapOptional(f).optional).map(([k]) => k)));
  return r;
}

/** The OpenAI "tools" entry, key order as in the plan's definitions. */
export function openAiTool(def: ToolDef): object {
  const properties = Object.fromEntries(Object.entries(def.parameters.shape).map(([k, f]) => [k, jsonProperty(k, f, def.name)]));
  return {
    type: 'function',
    function: { name: def.name, description: def.description, parameters: { type: 'object', properties, required: requiredArgs(def) } },
  };
}

/** What an argument must look like, compactly, for error responses the
 * model reads: {"predicted_scene": "nominal|flooded|..."}. */
export function expectedArgs(def: ToolDef): Record<string, string> {
  let e = expectedCache.get(def);
  if (!e) expectedCache.set(def, (e = computeExpected(def)));
  return e;
}

function computeExpected(def: ToolDef): Record<string, string> {
  return Object.fromEntries(Object.entries(def.parameters.shape).map(([k, f]) => {
    const p = jsonProperty(k, f, def.name);
    const shape = p.enum ? p.enum.join('|') : p.type;
    return [k, unwrapOptional(f).optional ? `${shape} (optional)` : shape];
  }));
}
