// Datasets that are empty, contradictory or hold values JSON cannot: each a
// clear error naming the file, row and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tmpDir } from './helpers/cli';
import { throwsTce } from './3-data-helpers';
import { readSelfConsistencyDb, SC_TABLE_SQL } from '../src/data/self-consistency';
import { readMdsSamples } from '../src/data/mds-source';
import { FIXTURE_MAPPING } from '../src/data/fixture/synth';

test('C4: an empty predictions table says so (not "several experiments ()")', () => {
  const dir = tmpDir('tce-empty-');
  const file = path.join(dir, 'self_consistency.db');
  const db = new Database(file);
  db.exec(SC_TABLE_SQL);
  db.close();
  throwsTce(() => readSelfConsistencyDb(file), 'SC_EMPTY', /self_consistency\.db: table 'predictions' is empty/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('C4: an MDS dataset without samples says so (not "(columns: )")', () => {
  const dir = tmpDir('tce-empty-');
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ version: 2, shards: [] }));
  throwsTce(() => readMdsSamples(dir, FIXTURE_MAPPING), 'MDS_EMPTY', /index\.json: the dataset holds no samples \(0 shards\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});
