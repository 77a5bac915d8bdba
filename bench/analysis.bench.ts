// Full re-analysis of a suite-sized run (13 experiments x 8,613 samples of
// synthetic rows): from the database file vs straight from the Arrow run
// folders, without and with the 10,000-resample bootstrap, and the piscina
// pool's speed-up over one thread.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { measure, type BenchModule, type ScenarioResult } from './harness';
import { openDb } from '../src/store/db';
import { analyzeArrow, analyzeDb } from '../src/analysis/analyze';
import { insertSyntheticSuite } from '../test/support/synthetic-suite';
import { writeRunsFromDb } from '../test/support/db-to-runs';
import { defaultWorkers } from '../src/analysis/bootstrap-pool';

const SAMPLES = 8613;
const RESAMPLES = 10_000;

export const bench: BenchModule = {
  name: 'analysis',
  async run() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tce-bench-analysis-'));
    const file = path.join(dir, 'tool_calling.db');
    const seed = openDb(file);
    insertSyntheticSuite(seed, { nSamples: SAMPLES });
    await writeRunsFromDb(seed, path.join(dir, 'runs'));
    seed.close();
    const runs = path.join(dir, 'runs');
    const fromDb = (bootstrap: number, workers?: number) => async () => {
      const db = openDb(file, { readonly: true });
      await analyzeDb(db, { bootstrap, ...(workers ? { workers } : {}) });
      db.close();
    };
    const fromArrow = (bootstrap: number) => async () => {
      const { db } = await analyzeArrow([runs], { bootstrap });
      db.close();
    };
    const s = (m: { wallNsPerOp: number }): number => m.wallNsPerOp / 1e9;
    const noBootDb = await measure(fromDb(0), 1, { trials: 3 });
    const noBootArrow = await measure(fromArrow(0), 1, { trials: 3 });
    const workers = defaultWorkers();
    const pool = await measure(fromDb(RESAMPLES, workers), 1, { trials: 2, warmup: 0 });
    const one = await measure(fromDb(RESAMPLES, 1), 1, { trials: 2, warmup: 0 });
    const arrowPool = await measure(fromArrow(RESAMPLES), 1, { trials: 2, warmup: 0 });
    fs.rmSync(dir, { recursive: true, force: true });
    const rows = `13 experiments x ${SAMPLES} samples of synthetic rows`;
    const results: ScenarioResult[] = [
      {
        bench: 'analysis', scenario: `full re-analysis, no bootstrap (${rows})`, better: 'lower', baseline: 'from database file',
        contenders: [
          { name: 'from database file', value: s(noBootDb), unit: 's' },
          { name: 'from Arrow run folders (bulk load into :memory: + analysis)', value: s(noBootArrow), unit: 's' },
        ],
      },
      {
        bench: 'analysis', scenario: `full re-analysis with ${RESAMPLES} paired bootstrap resamples (${rows})`, better: 'lower', baseline: 'database, bootstrap on one thread',
        contenders: [
          { name: 'database, bootstrap on one thread', value: s(one), unit: 's' },
          { name: `database, bootstrap in piscina pool (${workers} threads)`, value: s(pool), unit: 's' },
          { name: `Arrow run folders, bootstrap in piscina pool (${workers} threads)`, value: s(arrowPool), unit: 's' },
        ],
        notes: `Pool speed-up over one thread is bounded by the ${os.availableParallelism()} available cores.`,
      },
    ];
    return results;
  },
};
