import type { Db } from './db.js';

export interface Role {
  id: number;
  name: string;
  description: string;
}

export function listRoles(db: Db): Role[] {
  return db.prepare('SELECT id, name, description FROM roles ORDER BY name').all() as Role[];
}

export function findRole(db: Db, name: string): Role | undefined {
  return db.prepare('SELECT id, name, description FROM roles WHERE name = ?').get(name) as
    | Role
    | undefined;
}

/** Inserts or updates by name; returns true when a row changed. */
export function upsertRole(db: Db, role: { name: string; description?: string }): boolean {
  const result = db
    .prepare(
      `INSERT INTO roles (name, description) VALUES (@name, @description)
       ON CONFLICT (name) DO UPDATE SET description = excluded.description
       WHERE roles.description IS NOT excluded.description`,
    )
    .run({ name: role.name, description: role.description ?? '' });
  return result.changes > 0;
}
