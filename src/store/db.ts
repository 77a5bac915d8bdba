import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, latestSchemaVersion } from './schema';
import { TceError } from '../util/errors';
import { foreignDatabaseReason } from './preflight';
import { writeError } from './durable-file';

export type DB = Database.Database;

export interface OpenOptions {
  readonly?: boolean;
  /** Create the file and schema when missing (default true unless readonly). */
  create?: boolean;
}

function applyPragmas(db: DB): void {
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
}

/** Brings a database to the latest schema, one transaction per migration.
 * Refuses a database written by a newer tce. Idempotent. */
export function migrate(db: DB, file = db.name): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestSchemaVersion();
  if (current > latest) {
    throw new TceError('DB_TOO_NEW', `${file}: schema version ${current} was written by a newer tce (this one knows up to ${latest})`, 'upgrade tce, or use another --db');
  }
  let rebuilt = false;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    rebuilt ||= m.compact === true;
  }
  // A migration that rebuilt tables leaves their old pages free (a default
  // run's database: 156 -> 190 MB, 50 MB of it free): the file is rewritten
  // once, now. A new database has next to nothing to give back.
  if (rebuilt && !db.inTransaction && freeShare(db) >= COMPACT_FREE_SHARE) db.exec('VACUUM');
  return latestSchemaVersion();
}

/** The share of free pages from which a migration's rebuild is compacted. */
const COMPACT_FREE_SHARE = 1 / 8;

function freeShare(db: DB): number {
  return (db.pragma('freelist_count', { simple: true }) as number) / Math.max(1, db.pragma('page_count', { simple: true }) as number);
}

export function openDb(file: string, opts: OpenOptions = {}): DB {
  const readonly = opts.readonly ?? false;
  const create = opts.create ?? !readonly;
  if (!create && file !== ':memory:' && !fs.existsSync(file)) {
    throw new TceError('DB_MISSING', `${file}: no such database`, 'run `tce create-db` or `npm start` first');
  }
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: DB;
  try {
    db = new Database(file, { readonly, fileMustExist: !create });
  } catch (e) {
    throw new TceError('DB_OPEN', `${file}: cannot open database: ${(e as Error).message}`);
  }
  try {
    // Checked before any pragma: WAL mode would rewrite a foreign file's header.
    const foreign = file === ':memory:' ? null : foreignDatabaseReason(db);
    if (foreign) throw new TceError('DB_INVALID', `${file}: ${foreign}`, 'pass --db with a tce database or a new file; tce never writes into other databases');
    if (!readonly) {
      applyPragmas(db);
      migrate(db, file);
    } else {
      db.pragma('busy_timeout = 5000');
      const v = db.pragma('user_version', { simple: true }) as number;
      if (v > latestSchemaVersion()) throw new TceError('DB_TOO_NEW', `${file}: schema version ${v} was written by a newer tce (this one knows up to ${latestSchemaVersion()})`, 'upgrade tce');
    }
  } catch (e) {
    db.close();
    if (e instanceof TceError) throw e;
    const io = writeError(file, e);
    if (io instanceof TceError) throw io;
    throw new TceError('DB_INVALID', `${file}: not a usable tce database: ${(e as Error).message}`);
  }
  return db;
}

/** Column names of a table, in order (from the live schema). */
export function tableColumns(db: DB, table: string): Array<{ name: string; type: string }> {
  return (db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(table) as Array<{ name: string; type: string }>);
}
