// Worker thread of vacuum.ts: VACUUMs one database file and closes it.
import { workerData } from 'node:worker_threads';
import { vacuumHere } from './vacuum';

vacuumHere((workerData as { file: string }).file);
