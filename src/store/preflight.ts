// Checks made before a run starts, so a bad --db or run folder fails in a
// second with its path instead of after hours of requests. Nothing here
// writes: a database is opened read-only (so a foreign one is never switched
// to WAL mode) and folders are only inspected.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TceError } from '../util/errors';
import { latestSchemaVersion } from './schema';

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** Why an open database is not one tce may write into, or null. A database
 * tce made has a user_version; one made with the plan's SQL by hand has the
 * `experiments` table. Anything else with tables (a self_consistency.db, say)
 * belongs to someone else. */
export function foreignDatabaseReason(db: Database.Database): string | null {
  if ((db.pragma('user_version', { simple: true }) as number) > 0) return null;
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
  if (tables.length === 0 || tables.includes('experiments')) return null;
  return `not a tce experiment database (it holds ${tables.slice(0, 4).join(', ')}${tables.length > 4 ? ', ...' : ''} and no experiments table)`;
}

/** The closest existing folder at or above `dir`. */
function existingAncestor(dir: string): string {
  let cur = path.resolve(dir);
  while (!fs.existsSync(cur)) {
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

/** `dir` exists as a writable folder, or can be created. */
function checkFolderWritable(dir: string, what: string, code: string): void {
  const at = existingAncestor(dir);
  const st = fs.statSync(at);
  if (!st.isDirectory()) throw new TceError(code, `${at}: is not a folder, so ${what} ${dir} cannot be created there`);
  try {
    fs.accessSync(at, fs.constants.W_OK);
  } catch (e) {
    throw new TceError(code, `${at}: cannot write here (${errnoCode(e) ?? 'denied'}), so ${what} ${dir} cannot be ${at === path.resolve(dir) ? 'written' : 'created'}`, 'choose a writable location');
  }
}

function checkFileWritable(file: string, st: fs.Stats): void {
  // root passes access(2) on a file without write bits; such a file is still meant read-only.
  let why: string | null = (st.mode & 0o222) === 0 ? 'file mode has no write permission' : null;
  if (!why) {
    try {
      fs.closeSync(fs.openSync(file, 'r+'));
    } catch (e) {
      why = errnoCode(e) ?? String(e);
    }
  }
  if (why) throw new TceError('DB_READONLY', `${file}: the database is read-only (${why})`, 'make it writable, or pass --db with another file');
}

/** The database path: a new file in a writable folder, or an existing
 * writable SQLite file that is a tce database (or empty). */
export function preflightDatabase(file: string): void {
  if (file === ':memory:') return;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw new TceError('DB_PATH', `${file}: cannot use as the database: ${(e as Error).message}`);
    checkFolderWritable(path.dirname(path.resolve(file)), 'the database', 'DB_PATH');
    return;
  }
  if (st.isDirectory()) throw new TceError('DB_PATH', `${file}: is a folder, not a database file`, 'pass --db (or paths.db) with a file path, e.g. tool_calling_experiment/tool_calling.db');
  if (!st.isFile()) throw new TceError('DB_PATH', `${file}: is not a regular file`, 'pass --db with a database file');
  checkFileWritable(file, st);
  checkFolderWritable(path.dirname(path.resolve(file)), 'the database journal next to', 'DB_PATH');
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new TceError('DB_INVALID', `${file}: cannot open as a database: ${(e as Error).message}`);
  }
  let reason: string | null;
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    reason = version > latestSchemaVersion() ? `schema version ${version} was written by a newer tce (this one knows up to ${latestSchemaVersion()})` : foreignDatabaseReason(db);
  } catch (e) {
    reason = `not a SQLite database (${(e as Error).message})`;
  } finally {
    db.close();
  }
  if (reason) throw new TceError('DB_INVALID', `${file}: ${reason}`, 'pass --db with a tce database or a new file; tce never writes into other databases');
}

/** Everything a run writes before its first request: the database and the
 * run folder (Arrow intermediates). */
export function preflightRunPaths(p: { db: string; runsDir: string; mediaDir?: string | null }, minFreeBytes = MIN_FREE_BYTES): void {
  preflightDatabase(p.db);
  if (fs.existsSync(p.runsDir) && !fs.statSync(p.runsDir).isDirectory()) throw new TceError('RUNS_DIR', `${p.runsDir}: is not a folder (paths.runsDir, --runs)`);
  checkFolderWritable(p.runsDir, 'the run folder', 'RUNS_DIR');
  checkFreeSpace(p.runsDir, 'the run folder (paths.runsDir)', minFreeBytes);
  checkFreeSpace(path.dirname(path.resolve(p.db)), 'the database (paths.db)', minFreeBytes);
  if (p.mediaDir) {
    checkFolderWritable(p.mediaDir, 'the media folder (file image mode)', 'MEDIA_DIR');
    checkFreeSpace(p.mediaDir, 'the media folder (file image mode)', minFreeBytes);
  }
}

/** Below this much free space a run would fail part-way (Arrow batches,
 * the database load, image files): refused before the first request. */
export const MIN_FREE_BYTES = 256 * 1024 * 1024;

function checkFreeSpace(dir: string, what: string, minFreeBytes: number): void {
  const at = existingAncestor(dir);
  let free: number;
  try {
    const st = fs.statfsSync(at);
    free = st.bavail * st.bsize;
  } catch {
    return; // no statfs here: the write-time disk-full errors still name the path
  }
  if (minFreeBytes > 0 && free < minFreeBytes) {
    throw new TceError('DISK_SPACE', `${at}: only ${(free / 2 ** 20).toFixed(0)} MiB free for ${what}; a run needs at least ${(minFreeBytes / 2 ** 20).toFixed(0)} MiB`, 'free some space or point the path elsewhere');
  }
}

/** Refuses a run whose experiment ids the database already holds with
 * another config hash (a reused --suite or job id, a second run in the same
 * second): its rows could only be refused at the load after the whole run.
 * Same-hash ids are a resumed or sharded run and pass. Read-only. */
export function refuseTakenExperimentIds(file: string, ids: string[], hash: string): void {
  if (file === ':memory:' || ids.length === 0 || !fs.existsSync(file)) return;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  let taken: { id: string; h: string } | undefined;
  try {
    const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'experiments'`).get();
    if (!hasTable) return;
    const q = db.prepare('SELECT experiment_id AS id, config_hash AS h FROM experiments WHERE experiment_id = ? AND config_hash IS NOT NULL AND config_hash != ?');
    for (const id of ids) if ((taken = q.get(id, hash) as typeof taken)) break;
  } finally {
    db.close();
  }
  if (taken) {
    throw new TceError('RUN_ID_TAKEN', `${file}: already holds experiment ${taken.id} with config_hash ${taken.h}; this run (config_hash ${hash}) would write the same experiment id`,
      'two configurations never share an experiment: give this run another --suite, or another --db');
  }
}
