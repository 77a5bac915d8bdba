// GPU schedule (SIMULATED): a fixed slice of the suite, 1,000 samples x 13
// conditions, run against the continuous-batching engine model in virtual
// time under three client policies. Makespan is virtual engine time, not
// wall time on this machine; the workload's token counts are synthetic
// (seeded), shaped like the suite's conversations (see docs/performance.md).
import type { BenchModule, ScenarioResult } from './harness';
import { Rng } from '../src/util/rng';
import { QWEN3_VL_8B_H100, QWEN3_VL_2B_H100, type EngineConstants } from '../src/backends/sim/engine-model';
import { simulate, tcePolicy, fifoPolicy, lockStepPolicy, lowerBoundMs, type Conversation, type SimResult } from './support/schedule-sim';

const SAMPLES = 1000;
/** The plan's 11 tool conditions and the two no-tools controls. */
const TOOL_CONDITIONS = 11;
const CONTROLS = 2;
const FIXED_CONCURRENCY = 256;
/** An image of about 1 MP: Qwen3-VL spends one token per 32x32 px (estimate of the suite's images). */
const IMAGE_TOKENS = 1000;

/** Condition-major, as the driver's default run.order. */
export function suiteSlice(samples = SAMPLES, seed = 16): Conversation[] {
  const r = new Rng(seed, 'schedule-bench');
  const between = (lo: number, hi: number) => r.int(lo, hi);
  const convs: Conversation[] = [];
  for (let c = 0; c < TOOL_CONDITIONS + CONTROLS; c++) {
    const tools = c < TOOL_CONDITIONS;
    const sharedTokens = tools ? 900 + 60 * c : 350;
    for (let s = 0; s < samples; s++) {
      const nTurns = tools ? 1 + Math.min(3, Math.floor(-Math.log(1 - r.next()) * 1.2)) : 1;
      let prompt = sharedTokens + IMAGE_TOKENS + between(60, 140);
      const turns: Conversation['turns'] = [];
      for (let k = 0; k < nTurns; k++) {
        const last = k === nTurns - 1;
        const out = last ? between(40, 220) : between(30, 90);
        turns.push({ promptTokens: prompt, outputTokens: out });
        prompt += out + between(40, 200);
      }
      convs.push({ key: `c${c}/s${s}`, sharedKey: `c${c}`, sharedTokens, image: `img${s}`, imageTokens: IMAGE_TOKENS, turns });
    }
  }
  return convs;
}

async function scenario(c: EngineConstants, convs: Conversation[]): Promise<ScenarioResult> {
  const bound = lowerBoundMs(convs, c);
  const runs: SimResult[] = [];
  for (const p of [tcePolicy(convs), fifoPolicy(convs, FIXED_CONCURRENCY), lockStepPolicy(convs, FIXED_CONCURRENCY)]) runs.push(await simulate(convs, c, p));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const contenders = [
    { name: 'lower bound', value: bound / 1000, unit: 'virtual s (makespan)' },
    ...runs.map((r) => ({
      name: r.policy, value: r.makespanMs / 1000, unit: 'virtual s (makespan)',
      extra: { busy: pct(r.busyMs / r.makespanMs), prefixHit: pct(r.prefixHitRate), mmHit: pct(r.mmHitRate), preemptions: r.preemptions, meanDecodeBatch: r.meanDecodeBatch.toFixed(0), xBound: (r.makespanMs / bound).toFixed(3) },
    })),
  ];
  const lines = runs.map((r) => `- ${r.policy}: makespan ${(r.makespanMs / 1000).toFixed(1)} s, ${(r.makespanMs / bound).toFixed(3)}× the bound, engine busy ${pct(r.busyMs / r.makespanMs)}, prefix-cache hit ${pct(r.prefixHitRate)} (tokens), mm-cache hit ${pct(r.mmHitRate)}, ${r.preemptions} preemptions, mean decode batch ${r.meanDecodeBatch.toFixed(0)}, ${r.turns} turns`);
  return {
    bench: 'schedule',
    scenario: `${c.label}: ${convs.length} conversations (${SAMPLES} samples × ${TOOL_CONDITIONS + CONTROLS} conditions, synthetic token counts)`,
    better: 'lower',
    baseline: 'lower bound',
    contenders,
    // "within 1.15x of the bound" is bound/tce >= 1/1.15.
    targets: [{ name: runs[0]!.policy, vs: 'lower bound', ratio: Number((1 / 1.15).toFixed(3)) }, { name: runs[0]!.policy, vs: runs[2]!.policy, ratio: 1.3 }],
    notes: ['SIMULATED engine (src/backends/sim/engine-model.ts), virtual time; lower bound = total engine time at full batch with every prefix reused. The tce policy replays the driver\'s runTasks window and its real EndpointLimiter.', ...lines].join('\n'),
  };
}

export const bench: BenchModule = {
  name: 'schedule',
  async run() {
    const convs = suiteSlice();
    return [await scenario(QWEN3_VL_8B_H100, convs), await scenario(QWEN3_VL_2B_H100, convs)];
  },
};
