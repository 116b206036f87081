import type { Db } from './db.js';

/**
 * Copies the write-ahead log into the database file and truncates the log to zero bytes.
 * secure_delete zeroes erased rows in the database pages, but the WAL still holds the frames
 * written before the erasure (the insert of a descriptor, for one) until it is truncated.
 * Returns false when another connection kept the checkpoint from completing; the frames are
 * then overwritten by a later checkpoint.
 */
export function truncateWal(db: Db): boolean {
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') return true;
  const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  return result?.busy === 0;
}
