import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PresenteError } from '../errors.js';

export type Db = Database.Database;

export interface OpenOptions {
  busyTimeoutMs?: number;
  readonly?: boolean;
}

export const DATABASE_FILE = 'presente.db';

/** Makes sure the data directory exists and is writable; a clear error otherwise. */
export function ensureDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new PresenteError(`data directory ${dir}: exists and is not a directory`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PresenteError(`data directory ${dir}: cannot create it (${code})`);
  }
  if (!statSync(dir).isDirectory()) {
    throw new PresenteError(`data directory ${dir}: exists and is not a directory`);
  }
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch {
    throw new PresenteError(`data directory ${dir}: not readable and writable by this user`);
  }
  return dir;
}

/**
 * Opens the terminal's database with the settings attendance depends on:
 * - WAL, so readers (status, reports) never block the recorder;
 * - synchronous=FULL: every committed punch is on disk before the commit returns, so a power
 *   cut at the door loses nothing. NORMAL would be faster in WAL mode but can lose the last
 *   transactions on power loss; a punch rate of a few per minute does not need the speed.
 * - foreign keys on, and a busy timeout so a CLI command and the daemon can share the file;
 * - secure_delete, so erased descriptors are overwritten rather than left in free pages.
 */
export function openDatabase(dataDir: string, options: OpenOptions = {}): Db {
  const dir = ensureDataDir(dataDir);
  const file = join(dir, DATABASE_FILE);
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false });
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    // A file that is not SQLite only fails on first read; read now to say so clearly.
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (err) {
    const message = (err as Error).message;
    if (/not a database|file is encrypted|malformed/i.test(message)) {
      throw new PresenteError(`${file}: not an SQLite database (${message})`, undefined, {
        cause: err,
      });
    }
    throw new PresenteError(`${file}: cannot open the database (${message})`, undefined, {
      cause: err,
    });
  }
  return db;
}

/** Runs fn in a write transaction taken at once (BEGIN IMMEDIATE). */
export function immediate<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
