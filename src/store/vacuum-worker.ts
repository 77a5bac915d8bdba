// Worker thread of vacuum.ts: VACUUMs one database file and closes it.
import { workerData } from 'node:worker_threads';
import { openDb } from './db';

const db = openDb((workerData as { file: string }).file);
try {
  db.exec('VACUUM');
} finally {
  db.close();
}
