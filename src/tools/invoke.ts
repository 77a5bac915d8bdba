// One tool call from the model's parsed output to the response text it is
// shown, with spec 002's validity record. Shared by the inline path and the
// pool worker. Never throws: every failure is an outcome the model can read.
import { performance } from 'node:perf_hooks';
import { errorMessage } from '../util/errors';
import { tableFor, type ToolStats } from './stats';
import { expectedArgs, requiredArgs, type ToolAnswer, type ToolDef } from './tool-def';
import type { CallValidity, ToolErrorKind, ToolInvocation, ToolOutcome } from './types';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function outcome(id: number, t0: number, validity: Omit<CallValidity, 'error' | 'errorKind'>, kind: ToolErrorKind | null, message: string | null, body: unknown): ToolOutcome {
  return {
    id,
    responseJson: JSON.stringify(body),
    validity: { ...validity, error: kind === null ? null : `${kind}: ${message}`, ...(kind === null ? {} : { errorKind: kind }) },
    timeUs: Math.round((performance.now() - t0) * 1000),
  };
}

/** Arguments as the extractor gave them: an object, or a JSON string of one
 * (the OpenAI wire format). Anything else was not a parsable call. */
function argumentsObject(raw: unknown): Record<string, unknown> | null {
  if (raw === undefined || raw === null) return {};
  if (typeof raw === 'string') {
    try {
      const v: unknown = JSON.parse(raw);
      return isPlainObject(v) ? v : null;
    } catch {
      return null;
    }
  }
  return isPlainObject(raw) ? raw : null;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ToolTimeout(ms)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class ToolTimeout extends Error {
  constructor(ms: number) { super(`did not answer within ${ms} ms`); this.name = 'ToolTimeout'; }
}

/** A call that passed every check and only needs running: plain data, so
 * it can travel to a pool worker. */
export interface ToolJob {
  id: number;
  sampleId: number;
  name: string;
  args: Record<string, unknown>;
  oracle?: ToolInvocation['oracle'];
}

const CHECKED = { parsed: true, knownTool: true, requiredArgsPresent: true, schemaValid: true };

/** Validates a call: either a finished (error) outcome or a job to run. */
export function checkCall(call: ToolInvocation, tools: ReadonlyMap<string, ToolDef>): { outcome: ToolOutcome } | { job: ToolJob } {
  const t0 = performance.now();
  const offered = call.offered;
  const v = { parsed: false, knownTool: false, requiredArgsPresent: false, schemaValid: false, executedOk: false };
  const args = argumentsObject(call.arguments);
  if (typeof call.name !== 'string' || call.name === '' || args === null) {
    const msg = typeof call.name !== 'string' || call.name === '' ? 'the tool call has no tool name' : `the arguments must be a JSON object (found ${describe(call.arguments)})`;
    return { outcome: outcome(call.id, t0, v, 'unparsed', msg, { error: msg, expected: { name: offered, arguments: 'a JSON object' } }) };
  }
  v.parsed = true;
  const def = tools.get(call.name);
  if (!def || !offered.includes(call.name)) {
    const msg = def ? `tool '${call.name}' is not available here` : `unknown tool '${call.name}'`;
    return { outcome: outcome(call.id, t0, v, 'unknown_tool', msg, { error: msg, expected: { name: offered } }) };
  }
  v.knownTool = true;
  const expected = expectedArgs(def);
  const missing = requiredArgs(def).filter((k) => args[k] === undefined);
  v.requiredArgsPresent = missing.length === 0;
  const parsed = def.parameters.safeParse(args);
  if (!parsed.success || missing.length > 0) {
    const problems = missing.map((k) => `missing required argument '${k}'`);
    if (!parsed.success) {
      for (const iss of parsed.error.issues) {
        const key = String(iss.path[0] ?? '');
        if (missing.includes(key)) continue;
        problems.push(`'${key}' must be ${expected[key] ?? 'valid'} (found ${describe(args[key])})`);
      }
    }
    const msg = `invalid arguments for ${def.name}: ${problems.join('; ')}`;
    return { outcome: outcome(call.id, t0, v, missing.length ? 'missing_args' : 'invalid_args', msg, { error: msg, expected }) };
  }
  const job: ToolJob = { id: call.id, sampleId: call.sampleId, name: def.name, args: parsed.data };
  if (call.oracle) job.oracle = call.oracle;
  return { job };
}

/** Runs a checked job; a throw or a timeout becomes an outcome. */
export async function runJob(job: ToolJob, tools: ReadonlyMap<string, ToolDef>, stats: ToolStats, timeoutMs: number): Promise<ToolOutcome> {
  const t0 = performance.now();
  const def = tools.get(job.name)!;
  let answer: ToolAnswer;
  let json: string;
  try {
    if (job.oracle && !def.oracle) throw new Error(`${def.name} has no oracle variant`);
    const result = job.oracle ? def.oracle!(job.args, job.oracle) : def.run(job.args, tableFor(stats, job.sampleId));
    // Built-in tools answer synchronously: no timer for them (a timer per
    // call would cost more than the tool).
    answer = result instanceof Promise ? await withTimeout(result, timeoutMs) : result;
    // A custom tool's answer is untrusted too: it must be a JSON object.
    if (!isPlainObject(answer)) throw new Error(`returned ${describe(answer)} instead of a JSON object`);
    json = JSON.stringify(answer);
  } catch (e) {
    const timedOut = e instanceof ToolTimeout;
    const msg = `${def.name} ${timedOut ? '' : 'failed: '}${errorMessage(e)}`;
    return outcome(job.id, t0, { ...CHECKED, executedOk: false }, timedOut ? 'timeout' : 'tool_failed', msg, { error: msg, expected: expectedArgs(def) });
  }
  return { id: job.id, responseJson: json, validity: { ...CHECKED, executedOk: true, error: null }, timeUs: Math.round((performance.now() - t0) * 1000) };
}

/** Outcome for a job whose worker was killed (hang) or died. */
export function lostJobOutcome(job: ToolJob, kind: 'timeout' | 'tool_failed', message: string, tools: ReadonlyMap<string, ToolDef>): ToolOutcome {
  const def = tools.get(job.name);
  return outcome(job.id, performance.now(), { ...CHECKED, executedOk: false }, kind, message, { error: message, expected: def ? expectedArgs(def) : null });
}

/** Check and run in this thread. */
export async function invokeTool(call: ToolInvocation, tools: ReadonlyMap<string, ToolDef>, stats: ToolStats, timeoutMs: number): Promise<ToolOutcome> {
  const checked = checkCall(call, tools);
  return 'outcome' in checked ? checked.outcome : runJob(checked.job, tools, stats, timeoutMs);
}
