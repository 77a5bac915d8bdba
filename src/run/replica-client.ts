// Several servers of one model role (data-parallel replicas): each turn goes
// to the replica with the fewest requests in flight, except that a
// conversation's later turns go where its first turn went, since that
// server holds its prefix (and image) in cache. A conversation is known by
// its first message object: the tool loop appends to the same array.
import type { Endpoint } from '../backends/types';
import type { ChatMessage, TurnParams } from './chat-request';
import type { StreamEngineOptions } from '../extract/types';
import type { ChatClient, RetryPolicy, TurnOutcome } from './turn';

export class ReplicaChatClient implements ChatClient {
  readonly inFlight: number[];
  /** Turns sent to each replica (for progress and tests). */
  readonly sent: number[];
  private readonly home = new WeakMap<object, number>();
  private next = 0;

  constructor(private readonly clients: readonly ChatClient[]) {
    if (clients.length === 0) throw new Error('ReplicaChatClient: no replicas');
    this.inFlight = clients.map(() => 0);
    this.sent = clients.map(() => 0);
  }

  get endpoint(): Endpoint {
    return this.clients[0]!.endpoint;
  }

  get endpoints(): Endpoint[] {
    return this.clients.map((c) => c.endpoint);
  }

  /** The least busy replica; ties rotate so idle replicas all get work. */
  private pick(): number {
    let best = -1;
    for (let k = 0; k < this.clients.length; k++) {
      const i = (this.next + k) % this.clients.length;
      if (best < 0 || this.inFlight[i]! < this.inFlight[best]!) best = i;
    }
    this.next = (best + 1) % this.clients.length;
    return best;
  }

  async turn(messages: readonly ChatMessage[], params: TurnParams, engineOpts: StreamEngineOptions, retry: RetryPolicy): Promise<TurnOutcome> {
    const key = messages[0] as object | undefined;
    let i = key ? this.home.get(key) : undefined;
    if (i === undefined) {
      i = this.pick();
      if (key) this.home.set(key, i);
    }
    this.inFlight[i]!++;
    this.sent[i]!++;
    try {
      return { ...(await this.clients[i]!.turn(messages, params, engineOpts, retry)), endpoint: this.clients[i]!.endpoint.baseUrl };
    } finally {
      this.inFlight[i]!--;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}
