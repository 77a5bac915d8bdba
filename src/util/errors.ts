/** A failure the user can act on: printed as one line plus a hint, exit 1.
 * `code` is a stable string for tests and scripts (better-sqlite3 style). */
export class TceError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'TceError';
    this.code = code;
    this.hint = hint;
  }
}

/** Wrong command-line usage: exit 2. */
export class UsageError extends TceError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, hint);
    this.name = 'UsageError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
