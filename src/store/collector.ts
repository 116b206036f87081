import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { PresenteError } from '../errors.js';
import { type Db, ensureDataDir } from './db.js';

/**
 * The reference central subscriber's own database (`presente collect`), separate from any
 * terminal's: one row per attendance event, keyed by event id, so a resent event is stored once.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS collected_events (
  event_id    TEXT PRIMARY KEY,
  terminal_id TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  payload     TEXT NOT NULL,
  received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS collected_events_terminal ON collected_events (terminal_id, seq);
`;

export interface CollectedEvent {
  eventId: string;
  terminalId: string;
  seq: number;
  payload: string;
}

/**
 * Opens (creating when needed) a collector database. WAL with synchronous=NORMAL: a committed
 * row survives the collector being killed, which is what the acknowledgement promises; an
 * operating-system crash may lose the last rows, and the terminal then never got their ack.
 */
export function openCollectorDb(file: string): Db {
  const path = resolve(file);
  ensureDataDir(dirname(path));
  try {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return db;
  } catch (err) {
    throw new PresenteError(
      `${path}: cannot open the collector database (${(err as Error).message})`,
    );
  }
}

/** Stores an event; false when its id was already there (a resend). */
export function insertCollected(db: Db, event: CollectedEvent): boolean {
  return (
    db
      .prepare(
        `INSERT INTO collected_events (event_id, terminal_id, seq, payload)
         VALUES (@eventId, @terminalId, @seq, @payload) ON CONFLICT (event_id) DO NOTHING`,
      )
      .run(event).changes > 0
  );
}

export function countCollected(db: Db, terminalId?: string): number {
  const row = (
    terminalId === undefined
      ? db.prepare('SELECT count(*) AS n FROM collected_events').get()
      : db
          .prepare('SELECT count(*) AS n FROM collected_events WHERE terminal_id = ?')
          .get(terminalId)
  ) as { n: number };
  return row.n;
}

/** Every stored event id with its seq, in seq order per terminal. */
export function collectedIds(db: Db): { eventId: string; terminalId: string; seq: number }[] {
  return db
    .prepare(
      `SELECT event_id AS eventId, terminal_id AS terminalId, seq FROM collected_events
       ORDER BY terminal_id, seq`,
    )
    .all() as { eventId: string; terminalId: string; seq: number }[];
}
