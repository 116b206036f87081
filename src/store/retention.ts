import type { Db } from './db.js';

/*
 * Each function deletes at most `limit` rows, oldest first, and returns how many it deleted:
 * the retention job calls it again until it returns less than the limit, giving the event
 * loop (and the frame loop on it) a turn between batches.
 */

export function deleteAttendanceBefore(db: Db, beforeIso: string, limit: number): number {
  return db
    .prepare(
      `DELETE FROM attendance WHERE id IN (
         SELECT id FROM attendance WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)`,
    )
    .run(beforeIso, limit).changes;
}

export function deleteSightingsBefore(db: Db, beforeIso: string, limit: number): number {
  return db
    .prepare(
      `DELETE FROM sightings WHERE id IN (
         SELECT id FROM sightings WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)`,
    )
    .run(beforeIso, limit).changes;
}

/** Outbox rows whose delivery was confirmed before the given time. */
export function deleteDeliveredOutbox(db: Db, deliveredBeforeIso: string, limit: number): number {
  return db
    .prepare(
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?
         ORDER BY id LIMIT ?)`,
    )
    .run(deliveredBeforeIso, limit).changes;
}

/**
 * Deletes deactivated users that have nothing left pointing at them: a person removed while
 * they had attendance is kept (deactivated) only until retention has deleted their last punch.
 */
export function deleteRetiredUsers(db: Db, limit: number): number {
  return db
    .prepare(
      `DELETE FROM users WHERE id IN (
         SELECT u.id FROM users u
         WHERE u.active = 0
           AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.user_id = u.id)
           AND NOT EXISTS (SELECT 1 FROM face_templates t WHERE t.user_id = u.id)
         LIMIT ?)`,
    )
    .run(limit).changes;
}
