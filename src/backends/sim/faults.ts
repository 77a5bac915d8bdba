// Faults the simulator produces on demand, so retries, timeouts and engine
// loss in the driver are tested against the failures vLLM really shows.
// Which request gets a fault is drawn from (seed, request number): the same
// run order gives the same faults, and a retry is a new draw. The plan is
// parsed with the config (src/config/faults.ts).
import type { FaultPlan } from '../../config/faults';

export type { FaultPlan } from '../../config/faults';

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
