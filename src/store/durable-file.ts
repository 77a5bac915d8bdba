// Crash-safe file replacement: write a temporary file, fsync it, rename it
// over the target, fsync the directory. After `kill -9` or a power cut the
// target is either the old complete file or the new complete one.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export const TMP_SUFFIX = '.tmp';

export async function writeDurable(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = file + TMP_SUFFIX;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}

export function writeDurableSync(file: string, bytes: Uint8Array | string): void {
  const tmp = file + TMP_SUFFIX;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
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
