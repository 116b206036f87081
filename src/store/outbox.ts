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
