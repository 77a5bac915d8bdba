// The engine model (engine-model.ts) on the wall clock, for the HTTP
// simulator: steps run back to back, each taking its modelled time times
// `timeScale` (e.g. 0.01: a modelled hour in 36 s), so a whole suite runs
// in seconds while the order of first tokens and completions follows the
// model. Opt-in (SimulatorOptions.engineModel); the plain latency model
// stays the default.
import { EngineModel, type EngineConstants, type EngineRequest } from './engine-model';
import { hash32 } from '../../util/rng';

interface Job { first: () => void; done: () => void }

export interface EngineJob {
  /** Resolves when the request's first token is sampled. */
  first: Promise<void>;
  /** Resolves when its last token is. */
  done: Promise<void>;
}

export class RealtimeEngine {
  readonly model: EngineModel;
  private jobs = new Map<number, Job>();
  private nextId = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(constants: EngineConstants, private readonly timeScale: number) {
    if (!(timeScale > 0)) throw new Error(`engine model: timeScale must be > 0 (got ${timeScale})`);
    this.model = new EngineModel(constants);
  }

  run(req: Omit<EngineRequest, 'id'>): EngineJob {
    const id = this.nextId++;
    let first!: () => void, done!: () => void;
    const job: EngineJob = { first: new Promise<void>((r) => (first = r)), done: new Promise<void>((r) => (done = r)) };
    this.jobs.set(id, { first, done });
    this.model.submit({ ...req, id });
    this.kick();
    return job;
  }

  /** Stops stepping (server close); unfinished jobs stay pending. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(): void {
    if (this.timer || this.model.idle) return;
    const r = this.model.step();
    for (const req of r.started) this.jobs.get(req.id)?.first();
    // Completions are announced when the step's modelled time has passed.
    this.timer = setTimeout(() => {
      this.timer = null;
      for (const req of r.finished) {
        const j = this.jobs.get(req.id);
        this.jobs.delete(req.id);
        j?.first();
        j?.done();
      }
      this.kick();
    }, r.ms * this.timeScale);
  }
}

/** The engine request of a chat: the conversation is keyed by its first two
 * messages (system + first user turn), the shared prefix by the system one. */
export function engineRequest(texts: string[], messageTokens: number[], imageTokens: number, image: string | null, promptTokens: number, outputTokens: number): Omit<EngineRequest, 'id'> {
  const shared = texts[0] ?? '';
  return {
    conversation: `${hash32(shared)}:${hash32(texts[1] ?? '')}`,
    sharedKey: String(hash32(shared)),
    sharedTokens: Math.max(0, (messageTokens[0] ?? 0) - imageTokens),
    promptTokens, outputTokens: Math.max(1, outputTokens), image, imageTokens,
  };
}
