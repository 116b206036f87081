import { PresenteError } from '../errors.js';
import type { Db } from './db.js';

export interface User {
  id: number;
  code: string;
  name: string;
  role: string | null;
  shift: string | null;
  shiftId: number | null;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface UserInput {
  code: string;
  name: string;
  role?: string | null;
  shift?: string | null;
  active?: boolean;
}

interface UserRow {
  id: number;
  code: string;
  name: string;
  role: string | null;
  shift: string | null;
  shift_id: number | null;
  active: number;
  created_at: string;
  updated_at: string;
}

const SELECT = `SELECT u.id, u.code, u.name, r.name AS role, s.name AS shift, u.shift_id,
  u.active, u.created_at, u.updated_at
  FROM users u LEFT JOIN roles r ON r.id = u.role_id LEFT JOIN shifts s ON s.id = u.shift_id`;

function fromRow(row: UserRow): User {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    role: row.role,
    shift: row.shift,
    shiftId: row.shift_id,
    active: row.active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function listUsers(db: Db, options: { activeOnly?: boolean } = {}): User[] {
  const where = options.activeOnly ? ' WHERE u.active = 1' : '';
  return (db.prepare(`${SELECT}${where} ORDER BY u.code`).all() as UserRow[]).map(fromRow);
}

export function findUser(db: Db, code: string): User | undefined {
  const row = db.prepare(`${SELECT} WHERE u.code = ?`).get(code) as UserRow | undefined;
  return row && fromRow(row);
}

export function getUser(db: Db, id: number): User | undefined {
  const row = db.prepare(`${SELECT} WHERE u.id = ?`).get(id) as UserRow | undefined;
  return row && fromRow(row);
}

/** Resolves role and shift names to ids; a name that does not exist is an error. */
function references(db: Db, input: UserInput): { roleId: number | null; shiftId: number | null } {
  const lookup = (table: 'roles' | 'shifts', name: string | null | undefined) => {
    if (!name) return null;
    const row = db.prepare(`SELECT id FROM ${table} WHERE name = ?`).get(name) as
      | { id: number }
      | undefined;
    if (!row)
      throw new PresenteError(`${table === 'roles' ? 'role' : 'shift'} '${name}' does not exist`);
    return row.id;
  };
  return { roleId: lookup('roles', input.role), shiftId: lookup('shifts', input.shift) };
}

/** Adds a new user; a code already taken is an error. */
export function addUser(db: Db, input: UserInput): User {
  const { roleId, shiftId } = references(db, input);
  if (findUser(db, input.code)) throw new PresenteError(`user '${input.code}' already exists`);
  db.prepare(
    `INSERT INTO users (code, name, role_id, shift_id, active)
     VALUES (?, ?, ?, ?, ?)`,
  ).run(input.code, input.name, roleId, shiftId, input.active === false ? 0 : 1);
  return findUser(db, input.code)!;
}

/** Inserts or updates by code; returns true when a row changed. */
export function upsertUser(db: Db, input: UserInput): boolean {
  const { roleId, shiftId } = references(db, input);
  const result = db
    .prepare(
      `INSERT INTO users (code, name, role_id, shift_id, active)
       VALUES (@code, @name, @roleId, @shiftId, @active)
       ON CONFLICT (code) DO UPDATE SET name = excluded.name, role_id = excluded.role_id,
         shift_id = excluded.shift_id, active = excluded.active,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       WHERE (users.name, users.role_id, users.shift_id, users.active)
         IS NOT (excluded.name, excluded.role_id, excluded.shift_id, excluded.active)`,
    )
    .run({
      code: input.code,
      name: input.name,
      roleId,
      shiftId,
      active: input.active === false ? 0 : 1,
    });
  return result.changes > 0;
}

export type RemoveOutcome = 'deleted' | 'deactivated';

/**
 * Removes a user and erases their face templates. A user with attendance rows is deactivated
 * instead, so those rows keep pointing at a real person; their templates are erased either way.
 */
export function removeUser(db: Db, code: string): RemoveOutcome {
  return db
    .transaction((): RemoveOutcome => {
      const user = findUser(db, code);
      if (!user) throw new PresenteError(`user '${code}' does not exist`);
      db.prepare('DELETE FROM face_templates WHERE user_id = ?').run(user.id);
      const punches = db
        .prepare('SELECT count(*) AS n FROM attendance WHERE user_id = ?')
        .get(user.id) as { n: number };
      if (punches.n > 0) {
        db.prepare(
          `UPDATE users SET active = 0, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
           WHERE id = ?`,
        ).run(user.id);
        return 'deactivated';
      }
      db.prepare('DELETE FROM users WHERE id = ?').run(user.id);
      return 'deleted';
    })
    .immediate();
}
