// Simulator fault plans: the `backend.simulator.faults` config field (a spec
// string like "429=0.02,drop=0.01,die-after=500", or the plan as an object),
// parsed and validated with the rest of the config so a bad item is reported
// at load time under the field's name. The simulator consumes the parsed
// FaultPlan (src/backends/sim/faults.ts draws from it).
import { z } from 'zod';
import { TceError } from '../util/errors';

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
export type FaultPlan = z.infer<typeof FaultPlanSchema>;

const RATE_KEYS: Record<string, (p: FaultPlan, v: number) => void> = {
  '429': (p, v) => { p.statusRates = { ...p.statusRates, 429: v }; },
  '500': (p, v) => { p.statusRates = { ...p.statusRates, 500: v }; },
  '503': (p, v) => { p.statusRates = { ...p.statusRates, 503: v }; },
  drop: (p, v) => { p.dropRate = v; },
  stall: (p, v) => { p.stallRate = v; },
  garbage: (p, v) => { p.garbageRate = v; },
  'mid-error': (p, v) => { p.midStreamErrorRate = v; },
};
const COUNT_KEYS: Record<string, (p: FaultPlan, v: number) => void> = {
  'stall-ms': (p, v) => { p.stallMs = v; },
  'die-after': (p, v) => { p.dieAfter = v; },
  'slow-start': (p, v) => { p.slowStartMs = v; },
};
const FLAG_KEYS: Record<string, (p: FaultPlan) => void> = {
  'health-down': (p) => { p.healthDown = true; },
  'exit-startup': (p) => { p.exitDuringStartup = true; },
};

export const FAULT_SPEC_HELP = 'comma-separated: 429=R,500=R,503=R,drop=R,stall=R,garbage=R,mid-error=R (R a rate 0..1), stall-ms=MS, die-after=N, slow-start=MS, health-down, exit-startup';

/** Parses a spec into a plan, or names the first item it cannot read. */
function readFaultSpec(spec: string): { plan: FaultPlan } | { badItem: string } {
  const plan: FaultPlan = {};
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const raw = eq < 0 ? undefined : item.slice(eq + 1);
    const num = raw === undefined ? NaN : Number(raw);
    if (FLAG_KEYS[key] && raw === undefined) FLAG_KEYS[key](plan);
    else if (RATE_KEYS[key] && raw !== undefined && num >= 0 && num <= 1) RATE_KEYS[key](plan, num);
    else if (COUNT_KEYS[key] && raw !== undefined && Number.isInteger(num) && num >= 0) COUNT_KEYS[key](plan, num);
    else return { badItem: item };
  }
  return { plan };
}

/** Parses "429=0.1,drop=0.05,die-after=100" into a FaultPlan. */
export function parseFaultSpec(spec: string, source = '--faults'): FaultPlan {
  const r = readFaultSpec(spec);
  if ('badItem' in r) throw new TceError('FAULT_SPEC', `${source}: bad fault item '${r.badItem}'`, FAULT_SPEC_HELP);
  return r.plan;
}

/** The config field: a spec string, parsed here (a bad item is a config
 * error at the field's path), or the plan itself as an object. */
export const FaultsField = z.union([z.string(), FaultPlanSchema]).transform((v, ctx): FaultPlan => {
  if (typeof v !== 'string') return v;
  const r = readFaultSpec(v);
  if ('plan' in r) return r.plan;
  ctx.issues.push({ code: 'custom', message: `bad fault item '${r.badItem}'; expected ${FAULT_SPEC_HELP}`, input: v });
  return z.NEVER;
});
