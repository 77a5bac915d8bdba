import { AsyncLocalStorage } from 'node:async_hooks';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const TCE_BIN = path.join(ROOT, 'bin', 'tce.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** The whole environment of the call (as for a subprocess). */
  env?: NodeJS.ProcessEnv;
  input?: string;
}

// What `main()` writes while a call is in flight goes to that call's buffers.
// Writes from outside the call (node:test's own reporting to the parent
// process) pass through untouched: the capture follows the async context,
// not a time window.
const capture = new AsyncLocalStorage<{ stdout: string[]; stderr: string[] }>();
function interceptWrites(stream: NodeJS.WriteStream, key: 'stdout' | 'stderr'): void {
  const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    const sink = capture.getStore();
    if (!sink) return original(chunk, ...rest);
    sink[key].push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const cb = rest.find((x): x is () => void => typeof x === 'function');
    if (cb) process.nextTick(cb);
    return true;
  }) as typeof stream.write;
}
interceptWrites(process.stdout, 'stdout');
interceptWrites(process.stderr, 'stderr');

function swapEnv(env: NodeJS.ProcessEnv): () => void {
  const saved = { ...process.env };
  const set = (to: NodeJS.ProcessEnv) => {
    for (const k of Object.keys(process.env)) if (!(k in to)) delete process.env[k];
    for (const [k, v] of Object.entries(to)) if (v !== undefined) process.env[k] = v;
  };
  set(env);
  return () => set(saved);
}

function swapStdin(input: string): () => void {
  const saved = Object.getOwnPropertyDescriptor(process, 'stdin')!;
  Object.defineProperty(process, 'stdin', { value: Readable.from([input]), configurable: true, enumerable: true });
  return () => Object.defineProperty(process, 'stdin', saved);
}

// cwd, env and stdin are per process, so calls in one test file take turns.
let queue: Promise<unknown> = Promise.resolve();

/** Runs `tce args` in this process: the same `main()` bin/tce.js calls, with
 * the working directory, environment and stdin of the call, and its stdout,
 * stderr and exit code captured. Much cheaper than a subprocess, which loads
 * node and the modules again; `tceProcess` is the real binary. */
export function tce(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const call = async (): Promise<CliResult> => {
    const sink = { stdout: [] as string[], stderr: [] as string[] };
    const cwd = process.cwd();
    const restore: Array<() => void> = [];
    try {
      process.chdir(opts.cwd ?? ROOT);
      restore.push(() => process.chdir(cwd));
      if (opts.env) restore.push(swapEnv(opts.env));
      if (opts.input !== undefined) restore.push(swapStdin(opts.input));
      const status = await capture.run(sink, () => main(args));
      return { status, stdout: sink.stdout.join(''), stderr: sink.stderr.join('') };
    } finally {
      for (const r of restore.reverse()) r();
    }
  };
  const result = queue.then(call, call);
  queue = result.catch(() => undefined);
  return result;
}

/** Runs the real `tce` binary in a subprocess. */
export function tceProcess(args: string[], opts: SpawnSyncOptions & { input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [TCE_BIN, ...args], { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, input: opts.input, timeout: opts.timeout ?? 120_000, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

export function tmpDir(prefix = 'tce-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

let python: string | null | undefined;

/** The python3 interpreter that has sqlite3, by its own path (sys.executable),
 * or null without one. Looked up once per process: `python3` may be a version
 * manager's shim (pyenv's here: ~0.6 s of CPU a start, the interpreter itself
 * a tenth of that). */
export function python3(): string | null {
  if (python === undefined) {
    const r = spawnSync('python3', ['-c', 'import sqlite3, sys; print(sys.executable)'], { encoding: 'utf8' });
    python = r.status === 0 ? r.stdout.trim() || 'python3' : null;
  }
  return python;
}

export function hasPython3(): boolean {
  return python3() !== null;
}

/** An environment variable unique to this call site: processes started with
 * it (and their children, which inherit it) can be found again, without
 * counting those of test files running at the same time. */
export function processMark(): { name: string; value: string } {
  return { name: 'TCE_TEST_MARK', value: `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}` };
}

/** Live processes whose environment carries `mark`, as "pid command line". */
export function processesWithMark(mark: { name: string; value: string }): string[] {
  const needle = `${mark.name}=${mark.value}`;
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (!env.includes(needle)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (/^\d+ \(.*\) Z /.test(stat)) continue; // a zombie has exited
      out.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim()}`);
    } catch { /* gone meanwhile, or not ours to read */ }
  }
  return out;
}
