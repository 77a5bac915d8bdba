// Every spawned server runs in its own process group; this module remembers
// them and kills the groups when the driver exits, is interrupted or
// crashes ('exit' fires after an uncaught exception too), so no GPU is left
// holding a server nobody talks to. (A SIGKILLed driver cannot clean up:
// docs/backends.md says how to find leftovers.)

const groups = new Set<number>();

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

// Installed while a group is tracked, so a process that has stopped its
// servers (a test process, `tce view` after a run) keeps no handler of ours.
const handlers: Array<[string, () => void]> = [
  ['exit', () => { for (const g of groups) killGroup(g, 'SIGKILL'); }],
  ['SIGINT', () => onSignal('SIGINT', 130)],
  ['SIGTERM', () => onSignal('SIGTERM', 143)],
  ['SIGHUP', () => onSignal('SIGHUP', 129)],
];

export function track(pgid: number): void {
  if (groups.size === 0) for (const [event, h] of handlers) process.on(event, h);
  groups.add(pgid);
}

export function untrack(pgid: number): void {
  if (!groups.delete(pgid) || groups.size > 0) return;
  for (const [event, h] of handlers) process.off(event, h);
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
