// The servers a pool started, recorded in its run folder, so that a driver
// that was killed (kill -9 skips every cleanup) leaves a trace: on resume
// the next pool reads the record and reports the servers still running,
// which hold GPU memory the new ones need.
import fs from 'node:fs';
import path from 'node:path';
import type { ModelRole } from '../types';

export const SERVER_RECORD = 'vllm-servers.json';

export interface ServerEntry {
  role: ModelRole;
  pid: number;
  port: number;
}

function recordFile(runDir: string): string {
  return path.join(runDir, SERVER_RECORD);
}

export function readServerRecord(runDir: string): ServerEntry[] {
  try {
    const v = JSON.parse(fs.readFileSync(recordFile(runDir), 'utf8')) as unknown;
    return Array.isArray(v) ? v.filter((e): e is ServerEntry => typeof e?.pid === 'number' && Number.isSafeInteger(e.pid) && e.pid > 0) : [];
  } catch {
    return [];
  }
}

function writeRecord(runDir: string, entries: ServerEntry[]): void {
  const file = recordFile(runDir);
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(entries) + '\n');
  fs.renameSync(`${file}.tmp`, file);
}

export function recordServer(runDir: string, e: ServerEntry): void {
  writeRecord(runDir, [...readServerRecord(runDir).filter((x) => x.pid !== e.pid), e]);
}

export function forgetServer(runDir: string, pid: number): void {
  writeRecord(runDir, readServerRecord(runDir).filter((x) => x.pid !== pid));
}

/** Whether `pid` is alive and (where /proc can tell) still a `serve`
 * process, not an unrelated one that reused the id. */
function isLiveServer(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('serve');
  } catch {
    return true;
  }
}

/** Recorded servers whose processes still run (the rest are dropped from the record). */
export function liveRecordedServers(runDir: string): ServerEntry[] {
  const all = readServerRecord(runDir);
  const live = all.filter((e) => isLiveServer(e.pid));
  if (live.length !== all.length) writeRecord(runDir, live);
  return live;
}
