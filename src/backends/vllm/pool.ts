// One `vllm serve` per configured model, each on its GPU (CUDA_VISIBLE_DEVICES),
// its own free port on 127.0.0.1, a random API key and its own
// VLLM_CACHE_ROOT (concurrent starts clobber a shared torch.compile cache on
// older vLLMs). Servers are started once and reused across conditions;
// models whose memory shares do not fit one GPU together start in waves.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Config, ModelConfig } from '../../config/schema';
import { TceError } from '../../util/errors';
import type { Endpoint, ModelRole } from '../types';
import { freePorts, gpuComputeProcesses, logTail, whichExecutable } from './host';
import { isGroupAlive, stopGroup, track, untrack } from './reaper';
import { exitHint, memoryShare, vllmServeArgs, waves } from './serve-args';
import { SERVER_KEEP_ALIVE_S } from '../keep-alive';
import { mediaFolder } from '../../config/media-folder';
import { forgetServer, liveRecordedServers, recordServer } from './server-record';

export interface PoolServer {
  role: ModelRole;
  endpoint: Endpoint;
  pid: number;
  logFile: string;
  /** Set once the process has exited, with its code or signal. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

export interface PoolOptions {
  runDir: string;
  log?: (line: string) => void;
  /** Poll interval of /health while waiting (tests use a short one). */
  pollMs?: number;
  /** Progress line interval while waiting. */
  progressMs?: number;
}

/** One server of a role: replica k on its GPU. */
interface Unit {
  role: ModelRole;
  k: number;
  gpu: number;
}

const unitKey = (u: Unit): string => (u.k === 0 ? u.role : `${u.role}#${u.k}`);

export class VllmPool {
  // Keyed by unitKey: the role for its first server, role#k for replica k.
  private servers = new Map<string, PoolServer & { child: ChildProcess }>();
  private readonly exe: string;
  private readonly log: (line: string) => void;

  constructor(private readonly config: Config, private readonly opts: PoolOptions) {
    const exe = whichExecutable(config.backend.vllm.executable);
    if (!exe) {
      throw new TceError('VLLM_NOT_FOUND', `backend.vllm.executable '${config.backend.vllm.executable}' was not found on PATH`, 'install vLLM in this environment (pip install vllm), set backend.vllm.executable to its full path, or use backend.kind "simulator"');
    }
    this.exe = exe;
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    this.reportOrphans();
  }

  /** Servers an earlier driver of this run started and never stopped (it
   * was killed): they still hold their GPUs, so say so before starting more. */
  private reportOrphans(): void {
    for (const o of liveRecordedServers(this.opts.runDir)) {
      this.log(`warning: vllm serve for ${o.role} (pid ${o.pid}, port ${o.port}) from an earlier driver of this run is still running and holds GPU memory; stop it with \`kill -- -${o.pid}\` if it is not in use`);
    }
  }

  private model(role: ModelRole): ModelConfig {
    return this.config.models[role];
  }

  /** The role's servers: one per GPU of gpuIds (replicas), else one on gpuId. */
  private unitsOf(role: ModelRole): Unit[] {
    const m = this.model(role);
    return (m.gpuIds ?? [m.gpuId]).map((gpu, k) => ({ role, k, gpu }));
  }

  private alive(key: string): boolean {
    const s = this.servers.get(key);
    return s !== undefined && !s.exit;
  }

  /** Every live server of a role, first replica first. */
  replicas(role: ModelRole): Endpoint[] {
    return this.unitsOf(role).flatMap((u) => (this.alive(unitKey(u)) ? [this.servers.get(unitKey(u))!.endpoint] : []));
  }

  /** The waves in which `roles` can run (all at once when they fit). */
  plan(roles: ModelRole[]): ModelRole[][] {
    const v = this.config.backend.vllm;
    return waves(roles, (r) => this.unitsOf(r).map((u) => u.gpu), (r) => memoryShare(this.model(r), v));
  }

  endpoint(role: ModelRole): Endpoint | undefined {
    const s = this.servers.get(role);
    return s && !s.exit ? s.endpoint : undefined;
  }

  server(role: ModelRole): PoolServer | undefined {
    return this.servers.get(role);
  }

  /** Makes sure exactly the servers a step needs are up: starts the missing
   * ones and, when they would not fit beside them, stops the others first.
   * `roles` must fit together (one wave of plan()). */
  async ensure(roles: ModelRole[]): Promise<void> {
    const wanted = new Set(roles);
    const missing = roles.flatMap((r) => this.unitsOf(r)).filter((u) => !this.alive(unitKey(u)));
    if (missing.length === 0) return;
    const running = [...new Set([...this.servers.values()].map((s) => s.role))].filter((r) => !wanted.has(r) && this.endpoint(r));
    const together = this.plan([...roles, ...running]);
    if (together.length > 1) {
      // Free the GPUs the new servers need.
      for (const r of running) await this.stop(r);
    }
    const ports = await freePorts(missing.length);
    const starting = missing.map((u, i) => this.spawnOne(u, ports[i]!));
    try {
      await Promise.all(starting.map((s) => this.waitReady(s)));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private spawnOne(unit: Unit, port: number): PoolServer & { child: ChildProcess } {
    const { role, gpu } = unit;
    const key = unitKey(unit);
    const m = this.model(role);
    const v = this.config.backend.vllm;
    const others = gpuComputeProcesses(gpu);
    if (others && others.length > 0) {
      this.log(`warning: GPU ${gpu} already runs ${others.length} compute process(es) (${others.join('; ')}); ${key} may not fit`);
    }
    const apiKey = `tce-${randomBytes(16).toString('hex')}`;
    const cacheRoot = path.resolve(v.cacheRoot ?? path.join(this.opts.runDir, 'vllm-cache'), key.replace('#', '-'));
    fs.mkdirSync(cacheRoot, { recursive: true });
    fs.mkdirSync(this.opts.runDir, { recursive: true });
    const logFile = path.resolve(this.opts.runDir, `vllm-${key.replace('#', '-')}.log`);
    const fd = fs.openSync(logFile, 'a');
    const args = vllmServeArgs(m, v, port, this.config.seed, this.config.run.parseMode === 'server', this.config.dataset.imageMode === 'file' ? mediaFolder(this.config) : null, this.config.backend.streamInterval);
    let child: ChildProcess;
    try {
      child = spawn(this.exe, args, {
        // Idle keep-alive well above the client's (CLIENT_KEEP_ALIVE_MS), so the
        // client always closes an idle socket first (vLLM's default is 5 s).
        env: { ...process.env, CUDA_VISIBLE_DEVICES: String(gpu), VLLM_CACHE_ROOT: cacheRoot, VLLM_HTTP_TIMEOUT_KEEP_ALIVE: String(SERVER_KEEP_ALIVE_S), ...m.env,
          // The key goes in the environment, not argv, where `ps` would show it.
          VLLM_API_KEY: apiKey },
        stdio: ['ignore', fd, fd],
        // Own process group, so stopping it takes vLLM's engine workers too.
        detached: true,
      });
    } finally {
      fs.closeSync(fd);
    }
    if (child.pid === undefined) throw new TceError('VLLM_SPAWN', `could not start ${this.exe} for ${role}`);
    track(child.pid);
    recordServer(this.opts.runDir, { role, pid: child.pid, port });
    this.log(`starting ${key}: ${m.servedModelName} on GPU ${gpu}, port ${port} (log: ${logFile})`);
    const server = {
      role, pid: child.pid, logFile, exit: null, child,
      endpoint: { role, baseUrl: `http://127.0.0.1:${port}/v1`, apiKey, model: m.servedModelName },
    } as PoolServer & { child: ChildProcess };
    child.on('exit', (code, signal) => {
      server.exit = { code, signal };
      if (this.servers.get(key) === server && !this.closing) {
        this.log(`error: vllm serve for ${role} exited (${signal ?? `code ${code}`}); last lines of ${logFile}:\n${logTail(logFile, 20)}`);
      }
    });
    child.on('error', () => { /* reported through exit / waitReady */ });
    this.servers.set(key, server);
    return server;
  }

  private closing = false;

  private async waitReady(s: PoolServer): Promise<void> {
    const timeoutMs = this.config.backend.vllm.startupTimeoutS * 1000;
    // Every 50 ms for the first 2 s, so a quick server (a small model, a warm
    // cache, the tests' fake vllm at ~0.5 s) is seen ready within 50 ms of
    // listening; refused connections cost nothing. A slow one is then polled
    // at most every 0.5 s.
    const maxPoll = this.opts.pollMs ?? 500;
    let poll = Math.min(50, maxPoll);
    const every = this.opts.progressMs ?? 15_000;
    const t0 = Date.now();
    let nextProgress = t0 + every;
    const root = s.endpoint.baseUrl.replace(/\/v1$/, '');
    for (;;) {
      if (s.exit) {
        const tail = logTail(s.logFile);
        throw new TceError('VLLM_EXITED', `vllm serve for ${s.role} exited (${s.exit.signal ?? `code ${s.exit.code}`}) before it was ready\n--- last lines of ${s.logFile} ---\n${tail}`, exitHint(tail));
      }
      try {
        const res = await fetch(`${root}/health`, { signal: AbortSignal.timeout(Math.max(1000, maxPoll * 4)) });
        if (res.status === 200) {
          this.log(`${s.role} ready after ${((Date.now() - t0) / 1000).toFixed(1)} s at ${s.endpoint.baseUrl}`);
          return;
        }
      } catch { /* not listening yet: vLLM refuses connections until ready */ }
      const now = Date.now();
      if (now - t0 > timeoutMs) {
        throw new TceError('VLLM_TIMEOUT', `vllm serve for ${s.role} was not healthy after ${this.config.backend.vllm.startupTimeoutS} s\n--- last lines of ${s.logFile} ---\n${logTail(s.logFile)}`, 'raise backend.vllm.startupTimeoutS, or read the log');
      }
      if (now >= nextProgress) {
        nextProgress = now + every;
        const last = logTail(s.logFile, 1);
        this.log(`waiting for ${s.role} (${Math.round((now - t0) / 1000)} s): ${last}`);
      }
      await new Promise((r) => setTimeout(r, poll));
      if (Date.now() - t0 > 2000) poll = Math.min(maxPoll, poll * 2);
    }
  }

  /** Stops the role's servers (every replica). */
  async stop(role: ModelRole): Promise<void> {
    const keys = [...this.servers.entries()].filter(([, s]) => s.role === role).map(([k]) => k);
    await Promise.all(keys.map(async (k) => {
      const s = this.servers.get(k)!;
      this.servers.delete(k);
      if (isGroupAlive(s.pid)) await stopGroup(s.pid);
      untrack(s.pid);
      forgetServer(this.opts.runDir, s.pid);
    }));
  }

  /** Stops every server, waiting until their process groups are gone. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...new Set([...this.servers.values()].map((s) => s.role))].map((r) => this.stop(r)));
    this.closing = false;
  }
}
