// Reads a vLLM /metrics page into the few numbers the scheduler and the run
// record use. Accepts the current names and the pre-0.9 ones (vllm_facts §3);
// series of several engines (data-parallel ranks) are summed.
import type { ServerMetrics } from './types';

const NAMES: Record<keyof ServerMetrics, string[]> = {
  waiting: ['vllm:num_requests_waiting'],
  running: ['vllm:num_requests_running'],
  kvCacheUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
  prefixCacheHits: ['vllm:prefix_cache_hits_total', 'vllm:prefix_cache_hits', 'vllm:gpu_prefix_cache_hits_total', 'vllm:gpu_prefix_cache_hits'],
  prefixCacheQueries: ['vllm:prefix_cache_queries_total', 'vllm:prefix_cache_queries', 'vllm:gpu_prefix_cache_queries_total', 'vllm:gpu_prefix_cache_queries'],
  mmCacheHits: ['vllm:mm_cache_hits_total', 'vllm:mm_cache_hits'],
  mmCacheQueries: ['vllm:mm_cache_queries_total', 'vllm:mm_cache_queries'],
  preemptions: ['vllm:num_preemptions_total', 'vllm:num_preemptions'],
};

/** Parses Prometheus text exposition; null when it holds no vLLM queue gauges. */
export function parseVllmMetrics(text: string, modelName?: string): ServerMetrics | null {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    if (space < 0) continue;
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, line.indexOf(' '));
    if (!name.startsWith('vllm:')) continue;
    if (modelName !== undefined && brace >= 0 && line.includes('model_name=') && !line.includes(`model_name="${modelName}"`)) continue;
    const v = Number(line.slice(space + 1));
    if (!Number.isFinite(v)) continue;
    sums.set(name, (sums.get(name) ?? 0) + v);
  }
  const pick = (k: keyof ServerMetrics): number | null => {
    for (const n of NAMES[k]) {
      const v = sums.get(n);
      if (v !== undefined) return v;
    }
    return null;
  };
  const waiting = pick('waiting');
  const running = pick('running');
  if (waiting === null || running === null) return null;
  return {
    waiting, running,
    kvCacheUsage: pick('kvCacheUsage'),
    prefixCacheHits: pick('prefixCacheHits'),
    prefixCacheQueries: pick('prefixCacheQueries'),
    mmCacheHits: pick('mmCacheHits'),
    mmCacheQueries: pick('mmCacheQueries'),
    preemptions: pick('preemptions'),
  };
}

/** GET {server}/metrics for a base URL ending in /v1; null when the server
 * has none (hosted APIs) or cannot be reached. */
export async function scrapeMetrics(baseUrl: string, apiKey?: string, modelName?: string): Promise<ServerMetrics | null> {
  const root = baseUrl.replace(/\/v1\/?$/, '');
  try {
    const res = await fetch(`${root}/metrics`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    return parseVllmMetrics(await res.text(), modelName);
  } catch {
    return null;
  }
}
