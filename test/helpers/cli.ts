import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const TCE_BIN = path.join(ROOT, 'bin', 'tce.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `tce` binary in a subprocess. */
export function tce(args: string[], opts: SpawnSyncOptions & { input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [TCE_BIN, ...args], { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, input: opts.input, timeout: opts.timeout ?? 120_000, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

export function tmpDir(prefix = 'tce-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function hasPython3(): boolean {
  return spawnSync('python3', ['-c', 'import sqlite3'], { encoding: 'utf8' }).status === 0;
}
