import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PresenteError } from '../errors.js';
import { migrationsDir } from '../paths.js';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  current: number;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function readMigrations(dir: string = migrationsDir): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (!match) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  return migrations;
}

/**
 * Applies pending migrations, each in its own transaction, recording name and checksum.
 * An applied migration whose file has changed since is refused: the schema on disk would no
 * longer be the one the code expects.
 */
export function migrate(db: Db, dir: string = migrationsDir): MigrateResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  )`);

  const rows = db
    .prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
    .all() as { version: number; name: string; checksum: string }[];
  const done = new Map(rows.map((r) => [r.version, r]));
  const migrations = readMigrations(dir);

  for (const migration of migrations) {
    const applied = done.get(migration.version);
    if (applied && applied.checksum !== migration.checksum) {
      throw new PresenteError(
        `migration ${migration.name} was changed after it was applied ` +
          `(checksum ${applied.checksum.slice(0, 12)} in the database, ` +
          `${migration.checksum.slice(0, 12)} on disk); restore the file and add a new migration`,
      );
    }
  }

  const known = new Set(migrations.map((m) => m.version));
  const unknown = rows.filter((r) => !known.has(r.version));
  if (unknown.length > 0) {
    throw new PresenteError(
      `the database has migrations this version does not know (${unknown.map((r) => r.name).join(', ')}); ` +
        'it was written by a newer presente',
    );
  }

  const applied: string[] = [];
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)',
  );
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, migration.checksum);
    }).immediate();
    applied.push(migration.name);
  }

  const current = migrations.at(-1)?.version ?? 0;
  return { applied, current };
}
