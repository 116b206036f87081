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
