// Baseline scenario of the harness: bulk insert of prediction-shaped rows
// into the experiment schema, one transaction vs autocommit per row.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { measure, type BenchModule } from './harness';
import { openDb } from '../src/store/db';

export const bench: BenchModule = {
  name: 'store',
  async run() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-bench-store-'));
    const rows = 5000;
    const mk = (tx: boolean) => async () => {
      const file = path.join(dir, `${tx ? 'tx' : 'auto'}-${Math.random()}.db`);
      const db = openDb(file);
      db.prepare(`INSERT INTO experiments (experiment_id, condition_name, pipeline) VALUES ('e', 'baseline', 'A')`).run();
      const ins = db.prepare(`INSERT INTO predictions (experiment_id, sample_id, original_scene, final_scene, original_generated_text) VALUES (?, ?, ?, ?, ?)`);
      const body = () => { for (let i = 0; i < rows; i++) ins.run('e', i, 'incident_zone', 'nominal', 'FINAL_SCENE: nominal '.repeat(10)); };
      if (tx) db.transaction(body)(); else body();
      db.close();
    };
    const one = await measure(mk(true), rows, { trials: 3 });
    const auto = await measure(mk(false), rows, { trials: 3 });
    fs.rmSync(dir, { recursive: true, force: true });
    return [{
      bench: 'store', scenario: `insert ${rows} prediction rows (WAL, synchronous=NORMAL)`, better: 'higher', baseline: 'autocommit per row',
      contenders: [
        { name: 'one transaction', value: 1e9 / one.wallNsPerOp, unit: 'rows/s' },
        { name: 'autocommit per row', value: 1e9 / auto.wallNsPerOp, unit: 'rows/s' },
      ],
    }];
  },
};
