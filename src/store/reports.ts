import type { PunchKind, PunchStatus } from '../attendance/event.js';
import type { Db } from './db.js';

/** A punch with what a report shows next to it. */
export interface ReportPunch {
  userId: number;
  userCode: string;
  userName: string;
  kind: PunchKind;
  /** UTC ISO 8601. */
  occurredAt: string;
  utcOffsetMin: number;
  shiftId: number | null;
  shiftDay: string | null;
  status: PunchStatus;
}

/** Punches between two UTC instants (inclusive from, exclusive to), oldest first. */
export function reportPunches(
  db: Db,
  fromIso: string,
  toIso: string,
  userCode?: string,
): ReportPunch[] {
  return db
    .prepare(
      `SELECT a.user_id AS userId, u.code AS userCode, u.name AS userName, a.kind,
         a.occurred_at AS occurredAt, a.utc_offset_min AS utcOffsetMin, a.shift_id AS shiftId,
         a.shift_day AS shiftDay, a.status
       FROM attendance a JOIN users u ON u.id = a.user_id
       WHERE a.occurred_at >= ? AND a.occurred_at < ? ${userCode ? 'AND u.code = ?' : ''}
       ORDER BY a.occurred_at, a.seq`,
    )
    .all(fromIso, toIso, ...(userCode ? [userCode] : [])) as ReportPunch[];
}

/** An active user with a shift: someone expected at the door on the shift's days. */
export interface ScheduledUser {
  userId: number;
  userCode: string;
  userName: string;
  shiftId: number;
  /** UTC ISO: days before the user existed are not absences. */
  createdAt: string;
}

export function scheduledUsers(db: Db, userCode?: string): ScheduledUser[] {
  return db
    .prepare(
      `SELECT id AS userId, code AS userCode, name AS userName, shift_id AS shiftId,
         created_at AS createdAt
       FROM users WHERE active = 1 AND shift_id IS NOT NULL ${userCode ? 'AND code = ?' : ''}
       ORDER BY code`,
    )
    .all(...(userCode ? [userCode] : [])) as ScheduledUser[];
}
