import type { PunchKind, PunchStatus } from '../attendance/event.js';
import type { Db } from './db.js';

export interface AttendanceRow {
  id: string;
  seq: number;
  userId: number;
  kind: PunchKind;
  /** UTC ISO 8601. */
  occurredAt: string;
  utcOffsetMin: number;
  shiftId: number | null;
  shiftDay: string | null;
  status: PunchStatus;
  distance: number | null;
  camera: string;
}

export function insertAttendance(db: Db, row: AttendanceRow): void {
  db.prepare(
    `INSERT INTO attendance (id, seq, user_id, kind, occurred_at, utc_offset_min, shift_id,
       shift_day, status, distance, camera)
     VALUES (@id, @seq, @userId, @kind, @occurredAt, @utcOffsetMin, @shiftId, @shiftDay,
       @status, @distance, @camera)`,
  ).run(row);
}

const SELECT = `SELECT id, seq, user_id AS userId, kind, occurred_at AS occurredAt,
  utc_offset_min AS utcOffsetMin, shift_id AS shiftId, shift_day AS shiftDay, status, distance,
  camera FROM attendance`;

/** The user's latest punch at or before `before` (UTC ISO), if any. */
export function lastPunch(db: Db, userId: number, before?: string): AttendanceRow | undefined {
  return db
    .prepare(
      `${SELECT} WHERE user_id = ? AND occurred_at <= ? ORDER BY occurred_at DESC, seq DESC
       LIMIT 1`,
    )
    .get(userId, before ?? '9999') as AttendanceRow | undefined;
}

/** Punches of a user for one shift day, oldest first. */
export function punchesOfShiftDay(db: Db, userId: number, shiftDay: string): AttendanceRow[] {
  return db
    .prepare(`${SELECT} WHERE user_id = ? AND shift_day = ? ORDER BY occurred_at, seq`)
    .all(userId, shiftDay) as AttendanceRow[];
}

/** Punches between two UTC instants (inclusive from, exclusive to), oldest first. */
export function punchesBetween(db: Db, fromIso: string, toIso: string): AttendanceRow[] {
  return db
    .prepare(`${SELECT} WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, seq`)
    .all(fromIso, toIso) as AttendanceRow[];
}

export function countAttendance(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM attendance').get() as { n: number }).n;
}

/** The time of the latest punch on this terminal (UTC ISO), if any. */
export function lastAttendanceAt(db: Db): string | null {
  const row = db.prepare('SELECT max(occurred_at) AS at FROM attendance').get() as {
    at: string | null;
  };
  return row.at;
}
