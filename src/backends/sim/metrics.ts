// The simulator's /metrics, with vLLM's V1 names and labels, written as
// prometheus_client writes them (vllm/v1/metrics/loggers.py registers the
// metrics; prometheus_client/exposition.py formats): counters get the _total
// suffix and a _created series, histograms a _created series, every value is
// a float ("3.0", Go-style exponents). Plus its prefix and mm caches:
// a prompt shares KV with an earlier one up to the longest message prefix
// seen before, and an image is a processor-cache hit when seen before.
import { hash32 } from '../../util/rng';
import { BoundedCache } from './bounded-cache';

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];

/** prometheus_client.utils.floatToGoString. */
export function goFloat(d: number): string {
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  if (Number.isNaN(d)) return 'NaN';
  let s = Number.isInteger(d) && Math.abs(d) < 1e16 ? `${d}.0` : String(d);
  const dot = s.indexOf('.');
  if (d > 0 && dot > 6 && !s.includes('e')) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    s = `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

export class SimMetrics {
  private readonly created = Date.now() / 1000;
  promptTokens = 0;
  generationTokens = 0;
  prefixQueries = 0;
  prefixHits = 0;
  mmQueries = 0;
  mmHits = 0;
  preemptions = 0;
  success: Record<string, number> = { stop: 0, length: 0, abort: 0, tool_calls: 0, error: 0 };
  private ttft = new Array<number>(TTFT_BUCKETS.length).fill(0);
  private ttftSum = 0;
  private ttftCount = 0;
  private prefixes = new BoundedCache<number, number>(100_000);
  private images = new BoundedCache<number, number>(20_000);

  /** Records a prompt; returns the tokens served from the prefix cache. */
  prompt(messageTexts: readonly string[], messageTokens: readonly number[], total: number): number {
    let h = 0x811c9dc5;
    let cum = 0;
    let hit = 0;
    for (let i = 0; i < messageTexts.length; i++) {
      h = hash32(messageTexts[i]!, h);
      cum += messageTokens[i]!;
      if (this.prefixes.get(h) !== undefined) hit = cum;
      else this.prefixes.set(h, cum);
    }
    // Only full 16-token blocks are cached, and the last token is always computed.
    hit = Math.min(Math.floor(hit / 16) * 16, Math.max(0, total - 1));
    this.promptTokens += total;
    this.prefixQueries += total;
    this.prefixHits += hit;
    return hit;
  }

  /** Records an image; true on a processor-cache hit. */
  image(hash: string): boolean {
    this.mmQueries++;
    const k = hash32(hash);
    if (this.images.get(k) !== undefined) {
      this.mmHits++;
      return true;
    }
    this.images.set(k, 1);
    return false;
  }

  firstToken(seconds: number): void {
    this.ttftSum += seconds;
    this.ttftCount++;
    for (let i = 0; i < TTFT_BUCKETS.length; i++) if (seconds <= TTFT_BUCKETS[i]!) this.ttft[i]!++;
  }

  render(model: string, state: { running: number; waiting: number; kvUsage: number }): string {
    const l = `model_name="${model.replace(/["\\\n]/g, '_')}",engine="0"`;
    const out: string[] = [];
    const c = goFloat(this.created);
    const gauge = (name: string, help: string, v: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}{${l}} ${goFloat(v)}`);
    const counter = (name: string, help: string, v: number) => out.push(`# HELP ${name}_total ${help}`, `# TYPE ${name}_total counter`, `${name}_total{${l}} ${goFloat(v)}`, `${name}_created{${l}} ${c}`);
    gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', state.running);
    gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', state.waiting);
    gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', state.kvUsage);
    counter('vllm:num_preemptions', 'Cumulative number of preemption from the engine.', this.preemptions);
    counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', this.promptTokens);
    counter('vllm:generation_tokens', 'Number of generation tokens processed.', this.generationTokens);
    counter('vllm:prefix_cache_queries', 'Prefix cache queries, in terms of number of queried tokens.', this.prefixQueries);
    counter('vllm:prefix_cache_hits', 'Prefix cache hits, in terms of number of cached tokens.', this.prefixHits);
    counter('vllm:mm_cache_queries', 'Multi-modal cache queries, in terms of number of queried items.', this.mmQueries);
    counter('vllm:mm_cache_hits', 'Multi-modal cache hits, in terms of number of cached items.', this.mmHits);
    out.push('# HELP vllm:request_success_total Count of successfully processed requests.', '# TYPE vllm:request_success_total counter');
    for (const [reason, n] of Object.entries(this.success)) out.push(`vllm:request_success_total{${l},finished_reason="${reason}"} ${goFloat(n)}`, `vllm:request_success_created{${l},finished_reason="${reason}"} ${c}`);
    out.push('# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.', '# TYPE vllm:time_to_first_token_seconds histogram');
    TTFT_BUCKETS.forEach((b, i) => out.push(`vllm:time_to_first_token_seconds_bucket{${l},le="${goFloat(b)}"} ${goFloat(this.ttft[i]!)}`));
    out.push(`vllm:time_to_first_token_seconds_bucket{${l},le="+Inf"} ${goFloat(this.ttftCount)}`);
    out.push(`vllm:time_to_first_token_seconds_count{${l}} ${goFloat(this.ttftCount)}`, `vllm:time_to_first_token_seconds_sum{${l}} ${goFloat(this.ttftSum)}`);
    out.push(`vllm:time_to_first_token_seconds_created{${l}} ${c}`);
    return out.join('\n') + '\n';
  }
}
