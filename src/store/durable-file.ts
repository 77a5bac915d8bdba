// Crash-safe file replacement: write a temporary file, fsync it, rename it
// over the target, fsync the directory. After `kill -9` or a power cut the
// target is either the old complete file or the new complete one.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TceError } from '../util/errors';

export const TMP_SUFFIX = '.tmp';

const FULL = 'the disk is full: free space (or point the path elsewhere) and run again; a run continues with --resume';
const READ_ONLY = 'the file system is read-only: point the path at a writable location';
const DENIED = 'no permission to write there: point the path at a writable location';
const WRITE_HINTS: Record<string, string> = {
  ENOSPC: FULL, EDQUOT: FULL, SQLITE_FULL: FULL,
  EROFS: READ_ONLY, SQLITE_READONLY: READ_ONLY,
  EACCES: DENIED, EPERM: DENIED,
};

function isIoCode(code: string): boolean {
  return /^E[A-Z]+$/.test(code) || code in WRITE_HINTS || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN');
}

/** A failed write (fs or SQLite) as a TceError naming the file, since
 * Node's write errors and SQLite's carry no path. Errors without a system
 * code (bugs, TceErrors) pass through unchanged. */
export function writeError(file: string, e: unknown): Error {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof TceError || !(e instanceof Error) || typeof code !== 'string' || !isIoCode(code)) return e instanceof Error ? e : new Error(String(e));
  const text = e.message.replace(/^[A-Z]+: /, '').replace(/, (open|write|rename|fsync|close|mkdir)( .*)?$/, '');
  const full = code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
  const hint = WRITE_HINTS[code] ?? (code.startsWith('SQLITE_IOERR') ? 'a disk I/O error, most often a full disk: check free space there and run again' : undefined);
  return new TceError(full ? 'DISK_FULL' : 'WRITE_FAILED', `${file}: cannot write: ${code}: ${text}`, hint);
}

export async function writeDurable(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = file + TMP_SUFFIX;
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(file, e);
  }
}

export function writeDurableSync(file: string, bytes: Uint8Array | string): void {
  const tmp = file + TMP_SUFFIX;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e);
  }
  syncDirSync(path.dirname(file));
}

/** Makes the renames inside `dir` durable (their order on disk follows the
 * order of these calls). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

export function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}
