// Faults the simulator produces on demand, so retries, timeouts and engine
// loss in the driver are tested against the failures vLLM really shows.
// Which request gets a fault is drawn from (seed, request number): the same
// run order gives the same faults, and a retry is a new draw.
import { UsageError } from '../../util/errors';

export interface FaultPlan {
  /** Share of chat requests refused with this status before any output. */
  statusRates?: Partial<Record<429 | 500 | 503, number>>;
  /** Share of streams whose connection is destroyed after the first deltas. */
  dropRate?: number;
  /** Share of streams that pause for `stallMs` after the first deltas. */
  stallRate?: number;
  stallMs?: number;
  /** Share of streams with one line that is not valid SSE JSON. */
  garbageRate?: number;
  /** Share of streams ended by vLLM's mid-stream error event, then [DONE]. */
  midStreamErrorRate?: number;
  /** /health answers 503 from the start (engine unhealthy). */
  healthDown?: boolean;
  /** The engine dies after this many chat requests: /health 503, streams
   * in flight get an error event, later requests 500. */
  dieAfter?: number;
  /** Delay before the server accepts connections. */
  slowStartMs?: number;
  /** Exit with an error during startup (the fake vllm's OOM). */
  exitDuringStartup?: boolean;
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

/** Parses "429=0.1,drop=0.05,die-after=100" into a FaultPlan. */
export function parseFaultSpec(spec: string, source = '--faults'): FaultPlan {
  const plan: FaultPlan = {};
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const raw = eq < 0 ? undefined : item.slice(eq + 1);
    const num = raw === undefined ? NaN : Number(raw);
    if (FLAG_KEYS[key] && raw === undefined) FLAG_KEYS[key](plan);
    else if (RATE_KEYS[key] && raw !== undefined && num >= 0 && num <= 1) RATE_KEYS[key](plan, num);
    else if (COUNT_KEYS[key] && raw !== undefined && Number.isInteger(num) && num >= 0) COUNT_KEYS[key](plan, num);
    else throw new UsageError(`${source}: bad fault item '${item}'`, FAULT_SPEC_HELP);
  }
  return plan;
}

export type StreamFault = 'drop' | 'stall' | 'garbage' | 'mid-error' | null;

/** Draws the fault (if any) for one request from a uniform number per kind. */
export function drawStatusFault(plan: FaultPlan, u: number): 429 | 500 | 503 | null {
  let acc = 0;
  for (const s of [429, 500, 503] as const) {
    acc += plan.statusRates?.[s] ?? 0;
    if (u < acc) return s;
  }
  return null;
}

export function drawStreamFault(plan: FaultPlan, u: number): StreamFault {
  let acc = 0;
  const kinds: Array<[StreamFault, number | undefined]> = [['drop', plan.dropRate], ['stall', plan.stallRate], ['garbage', plan.garbageRate], ['mid-error', plan.midStreamErrorRate]];
  for (const [k, r] of kinds) {
    acc += r ?? 0;
    if (u < acc) return k;
  }
  return null;
}
