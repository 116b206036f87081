import type { Db } from './db.js';

export interface OutboxEntry {
  eventId: string;
  seq: number;
  topic: string;
  payload: string;
}

/** Queues an event; call in the same transaction as the row it describes. */
export function enqueue(db: Db, entry: OutboxEntry): void {
  db.prepare(
    `INSERT INTO outbox (event_id, seq, topic, payload, next_attempt_at)
     VALUES (@eventId, @seq, @topic, @payload, 0)`,
  ).run(entry);
}

export function pendingCount(db: Db): number {
  return (
    db.prepare('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL').get() as { n: number }
  ).n;
}

/** A queued row as the publisher reads it. */
export interface OutboxRow {
  id: number;
  eventId: string;
  seq: number;
  topic: string;
  payload: string;
  attempts: number;
}

/**
 * Undelivered rows due by `now` (epoch ms), oldest first, after row id `afterId`: the
 * publisher walks the backlog with this cursor so rows already in flight are not read again.
 */
export function dueRows(db: Db, afterId: number, now: number, limit: number): OutboxRow[] {
  return db
    .prepare(
      `SELECT id, event_id AS eventId, seq, topic, payload, attempts FROM outbox
       WHERE delivered_at IS NULL AND id > ? AND next_attempt_at <= ?
       ORDER BY id LIMIT ?`,
    )
    .all(afterId, now, limit) as OutboxRow[];
}

/** Marks rows delivered by row id; returns how many were still undelivered. */
export function markDelivered(db: Db, ids: readonly number[]): number {
  const update = db.prepare(
    `UPDATE outbox SET delivered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       published_at = coalesce(published_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
     WHERE id = ? AND delivered_at IS NULL`,
  );
  return db.transaction(() => ids.reduce((n, id) => n + update.run(id).changes, 0)).immediate();
}

/** Marks events delivered by event id (a consumer's acknowledgement); returns the count. */
export function markDeliveredByEventId(db: Db, eventIds: readonly string[]): number {
  const update = db.prepare(
    `UPDATE outbox SET delivered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE event_id = ? AND delivered_at IS NULL`,
  );
  return db
    .transaction(() => eventIds.reduce((n, id) => n + update.run(id).changes, 0))
    .immediate();
}

/**
 * Records that the broker took rows which still wait for a consumer's acknowledgement; each is
 * due again at the time `retryAt(attempts)` gives (epoch ms), unless acknowledged before.
 */
export function markPublished(
  db: Db,
  rows: readonly { id: number; attempts: number }[],
  retryAt: (attempts: number) => number,
): void {
  const update = db.prepare(
    `UPDATE outbox SET published_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       attempts = ?, next_attempt_at = ?
     WHERE id = ? AND delivered_at IS NULL`,
  );
  db.transaction(() => {
    for (const row of rows) update.run(row.attempts + 1, retryAt(row.attempts + 1), row.id);
  }).immediate();
}

export interface OutboxCounts {
  total: number;
  pending: number;
}

export function outboxCounts(db: Db): OutboxCounts {
  return db
    .prepare(
      `SELECT count(*) AS total, count(*) FILTER (WHERE delivered_at IS NULL) AS pending
       FROM outbox`,
    )
    .get() as OutboxCounts;
}

/**
 * Keeps the outbox at most `maxRows` by deleting the oldest delivered rows. Undelivered rows
 * are never deleted here: when they alone pass the limit the table grows and the publisher
 * raises an alert instead.
 */
export function pruneDelivered(db: Db, maxRows: number): number {
  const { total } = outboxCounts(db);
  if (total <= maxRows) return 0;
  return db
    .prepare(
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE delivered_at IS NOT NULL ORDER BY id LIMIT ?)`,
    )
    .run(total - maxRows).changes;
}
