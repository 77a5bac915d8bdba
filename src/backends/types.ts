// Contract of the model backends (simulator, spawned vLLM, listed endpoints).
import type { ModelRole } from '../protocol/roles';

export type { ModelRole };

export interface Endpoint {
  role: ModelRole;
  /** Base URL including /v1, e.g. http://127.0.0.1:41234/v1 */
  baseUrl: string;
  apiKey: string;
  /** Model name to put in requests. */
  model: string;
  /** Cap on concurrent requests, when configured. */
  maxInFlight?: number;
}

/** Snapshot of a server's /metrics (vLLM names), for the scheduler and the run record. */
export interface ServerMetrics {
  waiting: number;
  running: number;
  kvCacheUsage: number | null;
  prefixCacheHits: number | null;
  prefixCacheQueries: number | null;
  mmCacheHits: number | null;
  mmCacheQueries: number | null;
  preemptions: number | null;
}

export interface BackendSet {
  kind: 'simulator' | 'vllm' | 'endpoints';
  /** True when results are not from real models (the simulator). */
  synthetic: boolean;
  endpoints: Partial<Record<ModelRole, Endpoint>>;
  /** Every server of a role when it has several (data-parallel replicas;
   * the first is `endpoints[role]`). */
  replicas?: Partial<Record<ModelRole, Endpoint[]>>;
  /** Reads /metrics of the server behind an endpoint; null when it has none. */
  metrics(role: ModelRole): Promise<ServerMetrics | null>;
  /** Brings up the servers of `roles` when not all models fit the GPUs at
   * once (vLLM pool only; stops the ones in the way). Absent elsewhere: all
   * endpoints are up from the start. After it resolves, `endpoints` holds
   * the roles asked for. */
  prepare?(roles: ModelRole[]): Promise<void>;
  /** Stops everything this set started (servers, child processes). */
  close(): Promise<void>;
}
