import type { Db } from './db.js';

/** Adds one to a named counter and returns the new value; call inside a transaction. */
export function nextValue(db: Db, name: string): number {
  const row = db
    .prepare(
      `INSERT INTO counters (name, value) VALUES (?, 1)
       ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
    )
    .get(name) as { value: number };
  return row.value;
}

export function currentValue(db: Db, name: string): number {
  const row = db.prepare('SELECT value FROM counters WHERE name = ?').get(name) as
    | { value: number }
    | undefined;
  return row?.value ?? 0;
}
