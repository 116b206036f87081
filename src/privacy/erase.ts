import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { truncateWal } from '../store/erasure.js';
import { removeTemplate } from '../store/templates.js';
import { type RemoveOutcome, removeUser } from '../store/users.js';

/**
 * Erasing biometric data means more than a DELETE: secure_delete (set when the database is
 * opened) zeroes the freed bytes, and truncating the WAL drops the older copies of the pages
 * that still held them.
 */
function scrub(db: Db, logger?: Logger): void {
  if (!truncateWal(db)) {
    logger?.warn(
      {},
      'erased templates may linger in the write-ahead log until the next checkpoint; ' +
        'another process holds the database open',
    );
  }
}

/** Removes a user (or deactivates one with attendance) and erases their face templates. */
export function eraseUser(db: Db, code: string, logger?: Logger): RemoveOutcome {
  const outcome = removeUser(db, code);
  scrub(db, logger);
  return outcome;
}

/** Erases one face template; false when it did not exist. */
export function eraseTemplate(db: Db, id: number, logger?: Logger): boolean {
  const removed = removeTemplate(db, id);
  if (removed) scrub(db, logger);
  return removed;
}
