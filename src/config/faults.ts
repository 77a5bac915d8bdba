// Simulator fault plans: the `backend.simulator.faults` config field (a spec
// string like "429=0.02,drop=0.01,die-after=500", or the plan as an object),
// parsed and validated with the rest of the config so a bad item is reported
// at load time under the field's name. The simulator consumes the parsed
// FaultPlan (src/backends/sim/faults.ts draws from it).
import { z } from 'zod';
import { readFaultSpec, FAULT_SPEC_HELP, type FaultPlan } from './fault-spec';

export { parseFaultSpec, FAULT_SPEC_HELP, type FaultPlan } from './fault-spec';

const rate = z.number().min(0).max(1);
const count = z.int().nonnegative();

export const FaultPlanSchema = z.strictObject({
  statusRates: z.strictObject({ 429: rate.optional(), 500: rate.optional(), 503: rate.optional() }).optional().describe('share of chat requests refused with this status before any output'),
  dropRate: rate.optional().describe('share of streams whose connection is destroyed after the first deltas'),
  stallRate: rate.optional().describe('share of streams that pause for stallMs after the first deltas'),
  stallMs: count.optional(),
  garbageRate: rate.optional().describe('share of streams with one line that is not valid SSE JSON'),
  midStreamErrorRate: rate.optional().describe('share of streams ended by vLLM\'s mid-stream error event, then [DONE]'),
  healthDown: z.boolean().optional().describe('/health answers 503 from the start (engine unhealthy)'),
  dieAfter: count.optional().describe('the engine dies after this many chat requests: /health 503, streams in flight get an error event, later requests 500'),
  slowStartMs: count.optional().describe('delay before the server accepts connections'),
  exitDuringStartup: z.boolean().optional().describe('exit with an error during startup (the fake vllm\'s OOM)'),
});
// The schema and the hand-written FaultPlan (fault-spec.ts, zod-free) must
// describe the same plan: this fails to compile when one gains a field.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const SCHEMA_MATCHES_PLAN: Same<z.infer<typeof FaultPlanSchema>, FaultPlan> = true;

/** The config field: a spec string, parsed here (a bad item is a config
 * error at the field's path), or the plan itself as an object. */
export const FaultsField = z.union([z.string(), FaultPlanSchema]).transform((v, ctx): FaultPlan => {
  if (typeof v !== 'string') return v;
  const r = readFaultSpec(v);
  if ('plan' in r) return r.plan;
  ctx.issues.push({ code: 'custom', message: `bad fault item '${r.badItem}'; expected ${FAULT_SPEC_HELP}`, input: v });
  return z.NEVER;
});
