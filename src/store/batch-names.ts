// A run directory's batch file names and commit marker, apart from the
// directory reader (run-dir.ts): the writer thread needs only these, and
// the reader's validation pulls in zod (~0.1 s of loading per thread).
import type { RunTable } from './arrow-schema';

export interface CommitMarker {
  batch: number;
  samples: number;
  /** Per table: file name, row count and byte size (checked on read). */
  files: Record<RunTable, { file: string; rows: number; bytes: number }>;
}

export function batchName(batch: number, part: RunTable | 'commit'): string {
  return `b${String(batch).padStart(6, '0')}.${part}.${part === 'commit' ? 'json' : 'arrow'}`;
}
