// Host facts the pool needs: distinct free ports, the executable on PATH,
// other compute processes on a GPU, the tail of a log file.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** `n` distinct free ports on 127.0.0.1. vLLM binds with SO_REUSEPORT, so two
 * servers given one port would both start: the ports must be picked here.
 * All listeners stay open until every port is chosen, so none repeats. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** Absolute path of an executable: as given when it has a slash, else the first on PATH. */
export function whichExecutable(name: string, envPath = process.env.PATH ?? ''): string | null {
  if (name.includes('/')) return fs.existsSync(name) ? path.resolve(name) : null;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return null;
}

/** Compute processes nvidia-smi lists on a GPU; null when nvidia-smi is absent. */
export function gpuComputeProcesses(gpuId: number): string[] | null {
  if (!whichExecutable('nvidia-smi')) return null;
  const r = spawnSync('nvidia-smi', ['-i', String(gpuId), '--query-compute-apps=pid,process_name,used_memory', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return null;
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

export function logTail(file: string, lines = 30): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8').split('\n').filter((l, i, a) => i < a.length - 1 || l.length > 0).slice(-lines).join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '(no log)';
  }
}
