// Writes experiments of a database out as Arrow run folders with the
// driver's RunWriter. The bench and the DB-vs-Arrow test use it to get both
// representations of the very same rows.
import type { DB } from '../../src/store/db';
import { openRunWriter } from '../../src/store/run-writer';
import type { SampleRecord, StoredExperiment, StoredPrediction, StoredToolCall, StoredTurn } from '../../src/store/rows';

/** A stored row without the columns the database fills. */
/** A stored row less what the database fills (id: turns has none). */
function strip<T extends { id?: unknown; created_at: unknown }>(r: T): Omit<T, 'id' | 'created_at'> {
  const { id: _id, created_at: _c, ...rest } = r;
  return rest;
}

export async function writeRunsFromDb(db: DB, runsDir: string): Promise<string[]> {
  const exps = db.prepare('SELECT * FROM experiments ORDER BY experiment_id').all() as StoredExperiment[];
  const dirs: string[] = [];
  for (const e of exps) {
    const id = e.experiment_id!;
    const { created_at: _c, ...row } = e;
    const experiment = { ...row, experiment_id: id };
    const w = openRunWriter(runsDir, experiment);
    const turns = groupBy(db.prepare('SELECT * FROM turns_full WHERE experiment_id = ? ORDER BY sample_id, turn_index').all(id) as StoredTurn[]);
    const calls = groupBy(db.prepare('SELECT * FROM tool_calls_full WHERE experiment_id = ? ORDER BY sample_id, tool_call_order').all(id) as StoredToolCall[]);
    for (const p of db.prepare('SELECT * FROM predictions_full WHERE experiment_id = ? ORDER BY sample_id').iterate(id) as Iterable<StoredPrediction>) {
      const sid = p.sample_id;
      const rec: SampleRecord = { prediction: strip(p), turns: (turns.get(sid) ?? []).map(strip), toolCalls: (calls.get(sid) ?? []).map(strip) };
      w.append(rec);
    }
    await w.finish(experiment);
    dirs.push(w.dir);
  }
  return dirs;
}

function groupBy<T extends { sample_id: number }>(rows: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const r of rows) {
    let l = m.get(r.sample_id);
    if (!l) m.set(r.sample_id, (l = []));
    l.push(r);
  }
  return m;
}
