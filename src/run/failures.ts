// Failed samples per experiment of a finished suite, read from the database
// the run was loaded into: the terminal summary counts them and the exit
// code says when a condition failed (more than run.maxFailedShare).
import fs from 'node:fs';
import { openDb } from '../store/db';
import { FAILED_STATUSES } from '../protocol/definitions';
import { conditionLabel } from '../protocol/conditions';

export interface ConditionFailures { experimentId: string; label: string; failed: number; samples: number; share: number }

export function conditionFailures(experimentId: string, label: string, failed: number, samples: number): ConditionFailures {
  return { experimentId, label, failed, samples, share: samples === 0 ? 0 : failed / samples };
}

export function suiteFailures(dbFile: string, experimentIds: string[]): ConditionFailures[] {
  if (experimentIds.length === 0 || !fs.existsSync(dbFile)) return [];
  const db = openDb(dbFile, { readonly: true });
  try {
    const marks = FAILED_STATUSES.map(() => '?').join(', ');
    const q = db.prepare(`SELECT e.condition_name AS c, e.verifier_size AS s, count(p.sample_id) AS n,
        coalesce(sum(CASE WHEN p.final_status IN (${marks}) THEN 1 ELSE 0 END), 0) AS failed
      FROM experiments e LEFT JOIN predictions p ON p.experiment_id = e.experiment_id WHERE e.experiment_id = ? GROUP BY e.experiment_id`);
    return experimentIds.flatMap((id) => {
      const row = q.get(...FAILED_STATUSES, id) as { c: string; s: string | null; n: number; failed: number } | undefined;
      if (!row) return [];
      return [conditionFailures(id, conditionLabel(row.c, row.s), row.failed, row.n)];
    });
  } finally {
    db.close();
  }
}

/** The terminal lines: every condition with failed samples, the ones over the limit marked. */
export function failureLines(f: ConditionFailures[], maxFailedShare: number): string[] {
  const bad = f.filter((x) => x.failed > 0);
  if (bad.length === 0) return ['  failed samples: none'];
  return [
    `  FAILED samples (server errors, timeouts; no answer, left out of every metric; \`tce run --resume\` reruns them):`,
    ...bad.map((x) => `    ${x.label}: ${x.failed} of ${x.samples}${x.share > maxFailedShare ? ` - over run.maxFailedShare ${maxFailedShare}: no claim that needs it is drawn` : ''}`),
  ];
}
