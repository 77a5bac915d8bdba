// An error as it crosses a worker-thread boundary (postMessage clones an
// Error without its own properties): a TceError stays one, with its code and
// hint (the CLI prints both); another error keeps its name and its code
// (ENOSPC, EADDRINUSE: callers and messages read it).
import { TceError } from './errors';

export interface WireError { tce: boolean; name: string; code: string | null; message: string; hint: string | null }

export function errorToWire(e: unknown): WireError {
  const err = e as { name?: unknown; code?: unknown; hint?: unknown } | null;
  return {
    tce: e instanceof TceError,
    name: typeof err?.name === 'string' ? err.name : 'Error',
    code: typeof err?.code === 'string' ? err.code : null,
    message: e instanceof Error ? e.message : String(e),
    hint: e instanceof TceError ? e.hint ?? null : null,
  };
}

export function errorFromWire(w: WireError): Error {
  if (w.tce && w.code !== null) return new TceError(w.code, w.message, w.hint ?? undefined);
  return Object.assign(new Error(w.message), { name: w.name }, w.code === null ? {} : { code: w.code });
}
