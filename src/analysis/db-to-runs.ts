// Writes experiments of a database out as Arrow run folders with the
// driver's RunWriter. The bench and the DB-vs-Arrow test use it to get both
// representations of the very same rows.
import type { DB } from '../store/db';
import { openRunWriter } from '../store/run-writer';
import type { Row, SampleRecord } from '../store/rows';

const strip = (r: Row): Row => {
  const { id: _id, created_at: _c, ...rest } = r;
  return rest;
};

export async function writeRunsFromDb(db: DB, runsDir: string): Promise<string[]> {
  const exps = db.prepare('SELECT * FROM experiments ORDER BY experiment_id').all() as Row[];
  const dirs: string[] = [];
  for (const e of exps) {
    const id = e['experiment_id'] as string;
    const { created_at: _c, ...row } = e;
    const w = openRunWriter(runsDir, row);
    const turns = groupBy(db.prepare('SELECT * FROM turns WHERE experiment_id = ? ORDER BY sample_id, turn_index').all(id) as Row[]);
    const calls = groupBy(db.prepare('SELECT * FROM tool_calls WHERE experiment_id = ? ORDER BY sample_id, tool_call_order').all(id) as Row[]);
    for (const p of db.prepare('SELECT * FROM predictions WHERE experiment_id = ? ORDER BY sample_id').iterate(id) as Iterable<Row>) {
      const sid = p['sample_id'] as number;
      const rec: SampleRecord = { prediction: strip(p), turns: (turns.get(sid) ?? []).map(strip), toolCalls: (calls.get(sid) ?? []).map(strip) };
      w.append(rec);
    }
    await w.finish(row);
    dirs.push(w.dir);
  }
  return dirs;
}

function groupBy(rows: Row[]): Map<number, Row[]> {
  const m = new Map<number, Row[]>();
  for (const r of rows) {
    const sid = r['sample_id'] as number;
    let l = m.get(sid);
    if (!l) m.set(sid, (l = []));
    l.push(r);
  }
  return m;
}
