// The `experiments` row of one condition in one suite, as a pure function of
// the condition and the suite's settings: what it is when its run starts and
// what its run adds when it ends.
import type { Config } from '../config/schema';
import type { ModelRole } from '../backends/types';
import type { ExperimentRow } from '../store/rows';
import type { ToolStats } from '../tools/stats';
import { BASELINE, type Condition } from '../protocol/conditions';
import type { ExperimentProgress } from './experiment';
import { samplingFields } from './chat-request';
import { generationConfig } from '../backends/vllm/serve-args';

/** The model a condition runs: its verifier, the predictor for a live
 * baseline, none for the reused greedy baseline. */
export function modelRole(cond: Condition, livePredict: boolean): ModelRole | null {
  return cond.role ?? (cond.name === BASELINE && livePredict ? 'predictor' : null);
}

/** Every model role the conditions need, in first-use order. */
export function modelRoles(conds: readonly Condition[], livePredict: boolean): ModelRole[] {
  return [...new Set(conds.flatMap((c) => modelRole(c, livePredict) ?? []))];
}

export interface SuiteFacts {
  config: Config;
  livePredict: boolean;
  /** Results are from a simulated model or synthetic data. */
  synthetic: boolean;
  /** The kind of the backend set serving the models (null: none opened). */
  backendKind: string | null;
  totalSamples: number;
  configJson: string;
  configHash: string;
  stats: Pick<ToolStats, 'mode' | 'source'>;
  shard: string | null;
  /** The suite every shard shares (the end of the experiment ids). */
  suiteId: string;
  /** The whole suite's sample ids, before sharding, as ranges. */
  suiteSamples: string;
}

/** The sampling parameters every request of the experiment sends (all of
 * them, so the server's defaults never apply), and the --generation-config
 * tce gave the servers it started (null: a server tce did not start). */
export function samplingRecord(c: Config, role: ModelRole, backendKind: string | null): string {
  const temperature = role === 'predictor' ? c.run.temperaturePredict : c.run.temperatureVerify;
  const generation = backendKind === 'vllm' ? generationConfig(c.models[role]) : null;
  return JSON.stringify({ ...samplingFields({ temperature, seed: c.seed, maxTokens: c.run.maxTokens }), generation_config: generation });
}

export function experimentRow(cond: Condition, id: string, f: SuiteFacts): ExperimentRow {
  const c = f.config;
  const role = modelRole(cond, f.livePredict);
  return {
    experiment_id: id,
    description: `${cond.question}${f.synthetic ? ' [simulated model, synthetic data]' : ''}`,
    condition_name: cond.name,
    pipeline: cond.pipeline,
    predictor_model: cond.pipeline === 'A' ? c.models.predictor.path : null,
    verifier_model: cond.role ? c.models[cond.role].path : null,
    tools_enabled: JSON.stringify(cond.tools),
    temperature_predict: c.run.temperaturePredict,
    temperature_verify: c.run.temperatureVerify,
    seed: c.seed,
    total_samples: f.totalSamples,
    status: 'running',
    verifier_size: cond.size,
    backend: role ? f.backendKind : cond.name === BASELINE ? 'reused-greedy' : null,
    synthetic: f.synthetic ? 1 : 0,
    sampling_json: role ? samplingRecord(c, role, f.backendKind) : null,
    config_json: f.configJson,
    config_hash: f.configHash,
    tool_stats_mode: f.stats.mode,
    tool_stats_sha256: f.stats.source?.sha256 ?? null,
    shard: f.shard,
    suite_id: f.suiteId,
    suite_samples: f.suiteSamples,
  };
}

/** The row once the experiment's run ended: its status and wall times. */
export function finishedExperimentRow(row: ExperimentRow, cond: Condition, p: ExperimentProgress, ranSamples: number, now = new Date()): ExperimentRow {
  const complete = p.done >= p.total;
  const wall = p.firstStartMs !== null && p.lastEndMs !== null ? (p.lastEndMs - p.firstStartMs) / 1000 : 0;
  return {
    ...row,
    status: complete ? 'completed' : 'interrupted',
    total_wall_time_s: wall,
    verify_wall_time_s: cond.verifier ? wall : null,
    predict_wall_time_s: cond.name === BASELINE ? wall : null,
    throughput_samples_per_s: wall > 0 ? ranSamples / wall : null,
    finished_at: now.toISOString(),
  };
}
