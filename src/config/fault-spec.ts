// The fault spec string ("429=0.02,drop=0.01,die-after=500") and the plan it
// parses into, without zod: the fake `vllm` (test/fake-vllm) reads its
// FAKE_VLLM_FAULTS with this at every start, and loading zod cost about a
// quarter of that process's CPU. The config field's schema (faults.ts) is
// checked against FaultPlan at compile time.
import { TceError } from '../util/errors';

/** What the simulator injects (src/backends/sim/faults.ts draws from it). */
export interface FaultPlan {
  // `| undefined` as zod infers optional fields (exactOptionalPropertyTypes).
  statusRates?: { 429?: number | undefined; 500?: number | undefined; 503?: number | undefined } | undefined;
  dropRate?: number | undefined;
  stallRate?: number | undefined;
  stallMs?: number | undefined;
  garbageRate?: number | undefined;
  midStreamErrorRate?: number | undefined;
  healthDown?: boolean | undefined;
  dieAfter?: number | undefined;
  slowStartMs?: number | undefined;
  exitDuringStartup?: boolean | undefined;
}

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
export function readFaultSpec(spec: string): { plan: FaultPlan } | { badItem: string } {
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
