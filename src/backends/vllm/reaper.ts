// Every spawned server runs in its own process group; this module remembers
// them and kills the groups when the driver exits, is interrupted or
// crashes ('exit' fires after an uncaught exception too), so no GPU is left
// holding a server nobody talks to. (A SIGKILLed driver cannot clean up:
// docs/backends.md says how to find leftovers.)

const groups = new Set<number>();
let installed = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch { /* already gone */ }
}

function onSignal(signal: NodeJS.Signals, code: number): void {
  // When the driver handles the signal itself (graceful stop: in-flight
  // turns finish first), the servers must stay up; its close() or the
  // 'exit' hook stops them. Otherwise the signal would end the process.
  if (process.listenerCount(signal) > 1) return;
  for (const g of groups) killGroup(g, 'SIGTERM');
  process.exit(code);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const g of groups) killGroup(g, 'SIGKILL');
  });
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));
}

export function track(pgid: number): void {
  install();
  groups.add(pgid);
}

export function untrack(pgid: number): void {
  groups.delete(pgid);
}

export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM the group, SIGKILL it after `graceMs` if anything is left. */
export async function stopGroup(pgid: number, graceMs = 5000): Promise<void> {
  killGroup(pgid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (isGroupAlive(pgid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (isGroupAlive(pgid)) killGroup(pgid, 'SIGKILL');
  untrack(pgid);
}
