import type { Db } from './db.js';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Shift {
  id: number;
  name: string;
  /** Local wall-clock time 'HH:MM'. */
  start: string;
  end: string;
  /** Days the shift starts on. */
  weekdays: Weekday[];
  lateGraceMin: number;
  earlyLeaveGraceMin: number;
  /** How long before the start a check-in is accepted as on time. */
  checkinOpensMin: number;
  /** The end is on the next day. */
  overnight: boolean;
}

export interface ShiftInput {
  name: string;
  start: string;
  end: string;
  weekdays?: Weekday[];
  lateGraceMin?: number;
  earlyLeaveGraceMin?: number;
  checkinOpensMin?: number;
}

interface ShiftRow {
  id: number;
  name: string;
  start_time: string;
  end_time: string;
  weekdays: number;
  late_grace_min: number;
  early_leave_grace_min: number;
  checkin_opens_min: number;
  overnight: number;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

export function isTime(value: string): boolean {
  return TIME.test(value);
}

export function weekdayMask(days: readonly Weekday[]): number {
  return days.reduce((mask, day) => mask | (1 << WEEKDAYS.indexOf(day)), 0);
}

export function maskWeekdays(mask: number): Weekday[] {
  return WEEKDAYS.filter((_, i) => (mask & (1 << i)) !== 0);
}

/** Problems with a shift, one line each; empty when it is valid. */
export function shiftProblems(input: ShiftInput): string[] {
  const problems: string[] = [];
  if (!input.name.trim()) problems.push('name: must not be empty');
  if (!isTime(input.start)) problems.push(`start: expected HH:MM, got '${input.start}'`);
  if (!isTime(input.end)) problems.push(`end: expected HH:MM, got '${input.end}'`);
  for (const day of input.weekdays ?? []) {
    if (!WEEKDAYS.includes(day)) problems.push(`weekdays: unknown day '${day}'`);
  }
  if (input.weekdays && input.weekdays.length === 0) problems.push('weekdays: must not be empty');
  for (const key of ['lateGraceMin', 'earlyLeaveGraceMin', 'checkinOpensMin'] as const) {
    const value = input[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= 720)) {
      problems.push(`${key}: expected whole minutes from 0 to 720, got '${value}'`);
    }
  }
  return problems;
}

const SELECT = `SELECT id, name, start_time, end_time, weekdays, late_grace_min,
  early_leave_grace_min, checkin_opens_min, overnight FROM shifts`;

function fromRow(row: ShiftRow): Shift {
  return {
    id: row.id,
    name: row.name,
    start: row.start_time,
    end: row.end_time,
    weekdays: maskWeekdays(row.weekdays),
    lateGraceMin: row.late_grace_min,
    earlyLeaveGraceMin: row.early_leave_grace_min,
    checkinOpensMin: row.checkin_opens_min,
    overnight: row.overnight === 1,
  };
}

export function listShifts(db: Db): Shift[] {
  return (db.prepare(`${SELECT} ORDER BY name`).all() as ShiftRow[]).map(fromRow);
}

export function findShift(db: Db, name: string): Shift | undefined {
  const row = db.prepare(`${SELECT} WHERE name = ?`).get(name) as ShiftRow | undefined;
  return row && fromRow(row);
}

export function getShift(db: Db, id: number): Shift | undefined {
  const row = db.prepare(`${SELECT} WHERE id = ?`).get(id) as ShiftRow | undefined;
  return row && fromRow(row);
}

/** Inserts or updates by name; returns true when a row changed. Validate first. */
export function upsertShift(db: Db, input: ShiftInput): boolean {
  const result = db
    .prepare(
      `INSERT INTO shifts (name, start_time, end_time, weekdays, late_grace_min,
         early_leave_grace_min, checkin_opens_min)
       VALUES (@name, @start, @end, @weekdays, @late, @early, @opens)
       ON CONFLICT (name) DO UPDATE SET
         start_time = excluded.start_time, end_time = excluded.end_time,
         weekdays = excluded.weekdays, late_grace_min = excluded.late_grace_min,
         early_leave_grace_min = excluded.early_leave_grace_min,
         checkin_opens_min = excluded.checkin_opens_min,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       WHERE (shifts.start_time, shifts.end_time, shifts.weekdays, shifts.late_grace_min,
              shifts.early_leave_grace_min, shifts.checkin_opens_min)
         IS NOT (excluded.start_time, excluded.end_time, excluded.weekdays,
              excluded.late_grace_min, excluded.early_leave_grace_min,
              excluded.checkin_opens_min)`,
    )
    .run({
      name: input.name,
      start: input.start,
      end: input.end,
      weekdays: weekdayMask(input.weekdays ?? ['mon', 'tue', 'wed', 'thu', 'fri']),
      late: input.lateGraceMin ?? 5,
      early: input.earlyLeaveGraceMin ?? 5,
      opens: input.checkinOpensMin ?? 60,
    });
  return result.changes > 0;
}
