// All tool calls from the turns that finished since the last dispatch travel
// to the executor in one batch (one pool task instead of one per call).
import type { ToolExecutor, ToolInvocation, ToolOutcome } from '../tools/types';

export class ToolBatcher {
  private pending: Array<{ inv: ToolInvocation; resolve: (o: ToolOutcome) => void }> = [];
  private scheduled = false;
  private nextId = 1;

  constructor(private readonly executor: ToolExecutor) {}

  run(inv: Omit<ToolInvocation, 'id'>): Promise<ToolOutcome> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.push({ inv: { ...inv, id }, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.dispatch());
      }
    });
  }

  private async dispatch(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes: ToolOutcome[];
    try {
      outcomes = await this.executor.executeBatch(batch.map((b) => b.inv));
    } catch (e) {
      // The executor promises never to reject; if it does, every call in the
      // batch gets an error response rather than hanging its sample.
      const msg = `tool executor failed: ${(e as Error).message}`;
      outcomes = batch.map((b) => ({ id: b.inv.id, responseJson: JSON.stringify({ error: msg }), validity: { parsed: true, knownTool: false, requiredArgsPresent: false, schemaValid: false, executedOk: false, error: msg }, timeUs: 0 }));
    }
    const byId = new Map(outcomes.map((o) => [o.id, o]));
    for (const b of batch) {
      const o = byId.get(b.inv.id);
      b.resolve(o ?? { id: b.inv.id, responseJson: JSON.stringify({ error: 'no outcome' }), validity: { parsed: true, knownTool: false, requiredArgsPresent: false, schemaValid: false, executedOk: false, error: 'executor returned no outcome' }, timeUs: 0 });
    }
  }
}
