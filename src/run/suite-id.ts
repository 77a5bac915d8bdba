// The suite id: what every experiment id of a suite ends with, shared by all
// shards of one suite so their experiments merge on `tce load`. Given with
// --suite; on a SLURM job (all nodes of one job, or all tasks of one array)
// the job id; for a sharded run elsewhere the config hash and the UTC date
// (every node with the same config and day agrees without talking). An
// unsharded run without any of these keeps a fresh timestamp per suite.
import { UsageError } from '../util/errors';

const SUITE_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;

export function checkSuiteId(id: string, from: string): string {
  if (!SUITE_RE.test(id)) throw new UsageError(`${from}: suite id '${id}' must be 1-64 letters, digits, '.' or '-' (no '_': experiment ids end with it)`);
  return id;
}

/** The suite id to use, or null for a new timestamp (unsharded, no job). */
export function chooseSuiteId(o: { suite?: string | undefined; sharded: boolean; hash: string; env: NodeJS.ProcessEnv; now?: Date }): string | null {
  if (o.suite !== undefined) return checkSuiteId(o.suite, '--suite');
  const job = o.env['SLURM_ARRAY_JOB_ID'] || o.env['SLURM_JOB_ID'];
  if (job) return checkSuiteId(`slurm-${job}`, 'SLURM_JOB_ID');
  if (!o.sharded) return null;
  const d = (o.now ?? new Date()).toISOString().slice(0, 10).replace(/-/g, '');
  return `${o.hash.slice(0, 12)}-${d}`;
}
