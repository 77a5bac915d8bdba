// Runs simulated servers in one worker thread (sim-worker.ts) per process:
// started on first use (or early, by prewarmSimulatorThread), kept for
// later backend sets so the Qwen3 tokenizer loads once per process, and
// holding the process open only while one of its servers is open.
// Callbacks cannot cross threads, so the options that take functions
// (onEngineDeath, accessLog: the fake `vllm serve`) stay in-thread there.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Simulator, SimulatorOptions } from './server';
import { errorFromWire, type WireError } from '../../util/thread-error';
import { ThreadCalls } from '../../util/thread-calls';

export type ThreadSimulatorOptions = Omit<SimulatorOptions, 'onEngineDeath' | 'accessLog'>;

/** `id` names the call; a started server is named by its start call's id. */
export type HostRequest = { op: 'start'; id: number; opts: ThreadSimulatorOptions } | { op: 'close'; id: number; server: number };
export type HostReply =
  | { op: 'started'; id: number; port: number }
  | { op: 'failed'; id: number; error: WireError }
  | { op: 'closed'; id: number };

class SimulatorThread {
  private readonly worker: Worker;
  private readonly calls: ThreadCalls<HostReply>;
  /** Servers open plus requests in flight: while > 0 the worker is ref'd. */
  private holds = 0;

  constructor() {
    this.worker = new Worker(path.join(__dirname, 'sim-worker.js'));
    this.calls = new ThreadCalls<HostReply>(this.worker, (code) => `simulator thread exited (code ${code})`);
    this.worker.on('message', (m: HostReply) => this.calls.settle(m.id, m));
    // After the listeners: adding a 'message' listener refs the worker's port
    // again, which would hold the process open after a run that never started
    // a server (e.g. one that failed while loading its data).
    this.worker.unref();
  }

  get dead(): boolean {
    return this.calls.failure !== null;
  }

  private hold(d: 1 | -1): void {
    this.holds += d;
    if (this.holds === 1 && d === 1) this.worker.ref();
    if (this.holds === 0) this.worker.unref();
  }

  private ask(m: (id: number) => HostRequest): Promise<HostReply> {
    this.hold(1);
    return this.calls.call((id) => this.worker.postMessage(m(id))).finally(() => this.hold(-1));
  }

  async start(opts: ThreadSimulatorOptions): Promise<Simulator> {
    const r = await this.ask((id) => ({ op: 'start', id, opts }));
    if (r.op === 'failed') throw errorFromWire(r.error);
    if (r.op !== 'started') throw new Error(`simulator thread: unexpected reply ${r.op}`);
    this.hold(1);
    let closing: Promise<void> | null = null;
    return {
      baseUrl: `http://127.0.0.1:${r.port}/v1`,
      port: r.port,
      close: () => (closing ??= this.dead
        ? Promise.resolve()
        : this.ask((id) => ({ op: 'close', id, server: r.id })).then(() => undefined, () => undefined).finally(() => this.hold(-1))),
    };
  }
}

let thread: SimulatorThread | null = null;

function current(): SimulatorThread {
  if (!thread || thread.dead) thread = new SimulatorThread();
  return thread;
}

/** Starts the thread (and its tokenizer load) ahead of the first server. */
export function prewarmSimulatorThread(): void {
  current();
}

/** startSimulator in the shared simulator thread. */
export function startSimulatorThread(opts: ThreadSimulatorOptions): Promise<Simulator> {
  return current().start(opts);
}
