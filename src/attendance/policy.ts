import type { Shift } from '../store/shifts.js';
import { WEEKDAYS } from '../store/shifts.js';
import { addDays, localDate, zonedTime } from '../time.js';
import type { PunchKind, PunchStatus } from './event.js';

/**
 * The attendance policy: which kind of punch a recognised person makes and how it relates
 * to their shift. Pure functions of their arguments; the loop reads the user's shift and
 * last punch from the store and passes them in.
 */

export type AttendanceMode = 'auto' | 'in_only' | 'out_only' | 'toggle';

/**
 * How long after a shift's end a punch still belongs to that shift (a late check-out, as
 * overtime). Later than this it is outside any shift.
 */
export const CHECKOUT_WINDOW_MIN = 240;

const MINUTE_MS = 60_000;

/** One occurrence of a shift: the local date it starts on and its start and end instants. */
export interface ShiftInstance {
  shiftDay: string;
  start: Date;
  end: Date;
}

export interface PreviousPunch {
  kind: PunchKind;
  /** Shift day the punch was recorded under. */
  shiftDay: string | null;
  occurredAt: Date;
}

export interface PunchContext {
  at: Date;
  timeZone: string;
  /** The user's shift; null for a user without one. */
  shift: Shift | null;
  mode: AttendanceMode;
  /** The user's latest punch before `at`, if any. */
  previous: PreviousPunch | undefined;
}

export interface PunchDecision {
  kind: PunchKind;
  status: PunchStatus;
  /** The shift day the punch counts for: the instance's start date, else the local date. */
  shiftDay: string;
  /** The shift when the punch falls within one of its occurrences; else null. */
  shiftId: number | null;
  shiftName: string | null;
}

/** ISO weekday index (0 Monday ... 6 Sunday) of a 'YYYY-MM-DD' date. */
function weekdayIndex(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

/** The occurrence of `shift` that starts on local date `day`. */
export function shiftInstance(shift: Shift, day: string, timeZone: string): ShiftInstance {
  const start = zonedTime(day, shift.start, timeZone);
  const end = zonedTime(shift.overnight ? addDays(day, 1) : day, shift.end, timeZone);
  return { shiftDay: day, start, end };
}

/**
 * The occurrence a punch at `at` belongs to: from `checkinOpensMin` before its start to
 * CHECKOUT_WINDOW_MIN after its end, on a day the shift runs. When two overlap, the later
 * start wins. Start and end are local wall-clock times, so a shift on the day clocks change
 * is an hour shorter or longer in real time, as the people working it experience it.
 */
export function shiftInstanceAt(at: Date, shift: Shift, timeZone: string): ShiftInstance | null {
  const today = localDate(at, timeZone);
  let found: ShiftInstance | null = null;
  for (const offset of [-1, 0, 1]) {
    const day = addDays(today, offset);
    if (!shift.weekdays.includes(WEEKDAYS[weekdayIndex(day)]!)) continue;
    const instance = shiftInstance(shift, day, timeZone);
    const opens = instance.start.getTime() - shift.checkinOpensMin * MINUTE_MS;
    const closes = instance.end.getTime() + CHECKOUT_WINDOW_MIN * MINUTE_MS;
    if (at.getTime() >= opens && at.getTime() <= closes) found = instance;
  }
  return found;
}

/**
 * The kind of punch under the terminal mode:
 * - auto: the first punch of a shift day is the check-in, later ones are check-outs;
 * - toggle: alternates within a shift day (in, out, in, out), starting with a check-in;
 * - in_only / out_only: doors that only let people in or out.
 */
export function punchKind(
  mode: AttendanceMode,
  previous: PreviousPunch | undefined,
  shiftDay: string,
): PunchKind {
  const sameDay = previous !== undefined && previous.shiftDay === shiftDay;
  switch (mode) {
    case 'in_only':
      return 'check_in';
    case 'out_only':
      return 'check_out';
    case 'auto':
      return sameDay ? 'check_out' : 'check_in';
    case 'toggle':
      return sameDay && previous.kind === 'check_in' ? 'check_out' : 'check_in';
  }
}

/**
 * The status against the shift occurrence:
 * - check-in up to `lateGraceMin` after the start (inclusive) is on time, later is late,
 *   and after the end it is outside the shift;
 * - check-out more than `earlyLeaveGraceMin` before the end is an early leave, more than the
 *   same grace after the end is overtime, in between on time.
 */
export function punchStatus(
  kind: PunchKind,
  at: Date,
  instance: ShiftInstance,
  shift: Shift,
): PunchStatus {
  const t = at.getTime();
  const start = instance.start.getTime();
  const end = instance.end.getTime();
  if (kind === 'check_in') {
    if (t > end) return 'outside_shift';
    return t <= start + shift.lateGraceMin * MINUTE_MS ? 'on_time' : 'late';
  }
  if (t < end - shift.earlyLeaveGraceMin * MINUTE_MS) return 'early_leave';
  if (t > end + shift.earlyLeaveGraceMin * MINUTE_MS) return 'overtime';
  return 'on_time';
}

/** Kind, status and shift day of a punch by a recognised user. */
export function decidePunch(ctx: PunchContext): PunchDecision {
  const instance = ctx.shift ? shiftInstanceAt(ctx.at, ctx.shift, ctx.timeZone) : null;
  const shiftDay = instance?.shiftDay ?? localDate(ctx.at, ctx.timeZone);
  const kind = punchKind(ctx.mode, ctx.previous, shiftDay);
  if (!instance || !ctx.shift) {
    return { kind, status: 'outside_shift', shiftDay, shiftId: null, shiftName: null };
  }
  return {
    kind,
    status: punchStatus(kind, ctx.at, instance, ctx.shift),
    shiftDay,
    shiftId: ctx.shift.id,
    shiftName: ctx.shift.name,
  };
}

/**
 * A punch within `periodS` seconds after the user's previous one is a duplicate: the same
 * person still at the door, seen again by a new face track.
 */
export function isDuplicate(
  previous: PreviousPunch | undefined,
  at: Date,
  periodS: number,
): boolean {
  if (!previous) return false;
  const elapsed = at.getTime() - previous.occurredAt.getTime();
  return elapsed >= 0 && elapsed < periodS * 1000;
}
