// Per model role: the chat client and the concurrency limiter that talk to
// the role's endpoint, and the loop that feeds the server's queue length
// (/metrics) back into the limiter.
import type { Config } from '../config/schema';
import type { BackendSet, Endpoint, ModelRole } from '../backends/types';
import { ReplicaChatClient } from './replica-client';
import type { StreamEngine } from '../extract/types';
import { EndpointLimiter } from './limiter';
import { FeedBatcher } from './feed-batcher';
import { NativeChatClient, OpenAIChatClient, type ChatClient } from './turn';
import { TceError } from '../util/errors';

export interface RoleRuntime {
  role: ModelRole;
  client: ChatClient;
  limiter: EndpointLimiter;
  /** The server's queue length at the last /metrics poll. */
  waiting: number | null;
}

const METRICS_POLL_MS = 1000;

export class RoleRuntimes {
  private readonly byRole = new Map<ModelRole, RoleRuntime>();
  private readonly batcher: FeedBatcher;
  private metricsTimer: NodeJS.Timeout | null = null;

  constructor(private readonly backends: BackendSet | null, private readonly config: Config, private readonly engine: StreamEngine) {
    this.batcher = new FeedBatcher(engine);
  }

  /** The role's runtime, made when its server is up (with waves, after
   * prepare()); remade if its endpoint moved. The limiter is kept. */
  get(role: ModelRole): RoleRuntime {
    const c = this.config;
    const ep = this.backends?.endpoints[role];
    if (!ep) throw new TceError('NO_ENDPOINT', `no endpoint serves the ${role} model`, 'add it to backend.endpoints or use backend.kind "vllm"/"simulator"');
    const have = this.byRole.get(role);
    if (have && have.client.endpoint.baseUrl === ep.baseUrl) return have;
    if (have) void have.client.close().catch(() => undefined);
    const cap = ep.maxInFlight ?? Infinity;
    const limiter = have?.limiter ?? new EndpointLimiter({ initial: Math.min(c.concurrency.initial, cap), min: c.concurrency.min, max: Math.min(c.concurrency.max, cap), targetWaiting: c.concurrency.adaptive ? c.concurrency.targetWaiting : null });
    const one = (e: Endpoint): ChatClient => (c.run.clientMode === 'native' ? new NativeChatClient(e, this.engine, this.batcher, c.concurrency.max) : new OpenAIChatClient(e));
    const replicas = this.backends?.replicas?.[role] ?? [];
    const client: ChatClient = replicas.length > 1 ? new ReplicaChatClient(replicas.map(one)) : one(ep);
    const rt: RoleRuntime = { role, client, limiter, waiting: null };
    this.byRole.set(role, rt);
    return rt;
  }

  /** The server queue length last seen for a role (null: unknown). */
  waiting(role: ModelRole): number | null {
    return this.byRole.get(role)?.waiting ?? null;
  }

  /** Polls each running role's /metrics and adapts its limiter. */
  startMetrics(): void {
    const backends = this.backends;
    if (!backends || this.metricsTimer) return;
    this.metricsTimer = setInterval(() => {
      for (const rt of this.byRole.values()) {
        void backends.metrics(rt.role).then((m) => {
          rt.waiting = m?.waiting ?? null;
          rt.limiter.adapt(m);
        }, () => undefined);
      }
    }, METRICS_POLL_MS);
    this.metricsTimer.unref();
  }

  /** Stops the metrics loop and closes every client. */
  async close(): Promise<void> {
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.metricsTimer = null;
    for (const rt of this.byRole.values()) await rt.client.close().catch(() => undefined);
  }
}
