import type { ReportPunch, ScheduledUser } from '../store/reports.js';
import { type Shift, WEEKDAYS } from '../store/shifts.js';
import { addDays, formatOffset, zonedTime } from '../time.js';

/**
 * One line of an attendance report: one person, one day, one shift. Days are local dates in
 * the terminal's time zone; a punch belongs to the shift day the terminal gave it when it was
 * recorded, so a night shift is reported on the day it started. Durations are measured
 * between UTC instants, so a day with a daylight-saving change has its real length.
 */
export interface ReportRow {
  day: string;
  user: string;
  name: string;
  shift: string | null;
  /** Local time with offset, e.g. 2026-12-03T08:02:11+01:00. */
  first_check_in: string | null;
  last_check_out: string | null;
  worked_min: number;
  hours_worked: number;
  late_min: number;
  early_leave_min: number;
  /** Punches the day lacks: a check-in without a check-out, a check-out without a check-in. */
  missing_punches: number;
  /** complete; incomplete (punches missing); open (the shift has not ended yet); absent. */
  state: 'complete' | 'incomplete' | 'open' | 'absent';
}

export interface ReportOptions {
  /** First and last local day, inclusive ('YYYY-MM-DD'). */
  from: string;
  to: string;
  timeZone: string;
  /** Days and shifts that have not ended by then are open, not missing punches. */
  asOf: Date;
}

export interface ReportInput {
  punches: ReportPunch[];
  shifts: Map<number, Shift>;
  /** Active users with a shift: a scheduled day without punches is an absence. */
  scheduled: ScheduledUser[];
}

const MINUTE_MS = 60_000;

/** Code-point order: ISO times and codes sort right, without the cost of locale collation. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A pseudo-shift from midnight to midnight. */
const WHOLE_DAY: Shift = {
  id: 0,
  name: '',
  start: '00:00',
  end: '00:00',
  weekdays: [...WEEKDAYS],
  lateGraceMin: 0,
  earlyLeaveGraceMin: 0,
  checkinOpensMin: 0,
  overnight: true,
};

/** The UTC window of punches a report over these days can need (night shifts spill over). */
export function punchWindow(options: ReportOptions): { fromIso: string; toIso: string } {
  return {
    fromIso: zonedTime(addDays(options.from, -1), '00:00', options.timeZone).toISOString(),
    toIso: zonedTime(addDays(options.to, 2), '00:00', options.timeZone).toISOString(),
  };
}

/** The day a punch is reported on: its shift day, else its local date when it happened. */
function punchDay(punch: ReportPunch): string {
  if (punch.shiftDay) return punch.shiftDay;
  const local = new Date(Date.parse(punch.occurredAt) + punch.utcOffsetMin * MINUTE_MS);
  return local.toISOString().slice(0, 10);
}

function localIso(punch: ReportPunch): string {
  const local = new Date(Date.parse(punch.occurredAt) + punch.utcOffsetMin * MINUTE_MS);
  return `${local.toISOString().slice(0, 19)}${formatOffset(punch.utcOffsetMin)}`;
}

interface ShiftBounds {
  start: Date;
  end: Date;
}

/** Time-zone arithmetic is the costly part of a report; a month has few distinct days. */
const boundsCache = new Map<string, ShiftBounds>();
const BOUNDS_CACHE_MAX = 10_000;

function shiftBounds(shift: Shift, day: string, timeZone: string): ShiftBounds {
  const key = `${timeZone}|${shift.start}|${shift.end}|${day}`;
  let bounds = boundsCache.get(key);
  if (!bounds) {
    bounds = {
      start: zonedTime(day, shift.start, timeZone),
      end: zonedTime(shift.overnight ? addDays(day, 1) : day, shift.end, timeZone),
    };
    if (boundsCache.size >= BOUNDS_CACHE_MAX) boundsCache.clear();
    boundsCache.set(key, bounds);
  }
  return bounds;
}

/** The end of a local day: when a day without a shift is over. */
function dayEnd(day: string, timeZone: string): Date {
  return shiftBounds(WHOLE_DAY, day, timeZone).end;
}

export function worksOn(shift: Shift, day: string): boolean {
  const weekday = (new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7;
  return shift.weekdays.includes(WEEKDAYS[weekday]!);
}

interface Group {
  day: string;
  userId: number;
  userCode: string;
  userName: string;
  shiftId: number | null;
  punches: ReportPunch[];
}

/**
 * Groups punches by person, day and shift. A punch without a shift (outside any shift's
 * window) joins the person's only shift of that day when there is one, so an early arrival
 * does not split a day in two.
 */
function groupPunches(punches: ReportPunch[], from: string, to: string): Group[] {
  const groups = new Map<string, Group>();
  const byPersonDay = new Map<string, Group[]>();
  const groupFor = (punch: ReportPunch, day: string, shiftId: number | null): Group => {
    const key = `${punch.userId}|${day}|${shiftId ?? '-'}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        day,
        userId: punch.userId,
        userCode: punch.userCode,
        userName: punch.userName,
        shiftId,
        punches: [],
      };
      groups.set(key, group);
      const personDay = `${punch.userId}|${day}`;
      byPersonDay.set(personDay, [...(byPersonDay.get(personDay) ?? []), group]);
    }
    return group;
  };

  const unassigned: { punch: ReportPunch; day: string }[] = [];
  for (const punch of punches) {
    const day = punchDay(punch);
    if (day < from || day > to) continue;
    if (punch.shiftId === null) unassigned.push({ punch, day });
    else groupFor(punch, day, punch.shiftId).punches.push(punch);
  }

  for (const { punch, day } of unassigned) {
    const withShift = (byPersonDay.get(`${punch.userId}|${day}`) ?? []).filter(
      (g) => g.shiftId !== null,
    );
    const only = withShift.length === 1 ? withShift[0] : undefined;
    (only ?? groupFor(punch, day, null)).punches.push(punch);
  }

  for (const group of groups.values()) {
    group.punches.sort((a, b) => compare(a.occurredAt, b.occurredAt));
  }
  return [...groups.values()];
}

interface Pairing {
  workedMs: number;
  missing: number;
  /** A check-in still waiting for its check-out. */
  openSince: Date | null;
}

/**
 * Pairs check-ins with check-outs in time order. A check-out after a check-out moves the end
 * of the last period (the terminal's auto mode records every later pass as a check-out, the
 * last one being the time the person left); a check-in after a check-in leaves the first
 * period without its check-out.
 */
function pairPunches(punches: ReportPunch[]): Pairing {
  let workedMs = 0;
  let missing = 0;
  let openSince: Date | null = null;
  let lastPeriod: { start: number; end: number } | null = null;

  for (const punch of punches) {
    const at = Date.parse(punch.occurredAt);
    if (punch.kind === 'check_in') {
      if (openSince) missing++;
      openSince = new Date(at);
      lastPeriod = null;
    } else if (openSince) {
      lastPeriod = { start: openSince.getTime(), end: at };
      workedMs += at - openSince.getTime();
      openSince = null;
    } else if (lastPeriod) {
      workedMs += at - lastPeriod.end;
      lastPeriod.end = at;
    } else {
      missing++;
    }
  }
  return { workedMs, missing, openSince };
}

function buildRow(group: Group, shift: Shift | undefined, options: ReportOptions): ReportRow {
  const checkIns = group.punches.filter((p) => p.kind === 'check_in');
  const checkOuts = group.punches.filter((p) => p.kind === 'check_out');
  const firstIn = checkIns[0];
  const lastOut = checkOuts.at(-1);
  const pairing = pairPunches(group.punches);

  // A period still open counts as missing only once the shift (or the day) is over.
  const bounds = shift && shiftBounds(shift, group.day, options.timeZone);
  const end = bounds ? bounds.end : dayEnd(group.day, options.timeZone);
  const dayOver = end.getTime() <= options.asOf.getTime();
  const stillOpen = pairing.openSince !== null && !dayOver;
  const missing = pairing.missing + (pairing.openSince && dayOver ? 1 : 0);

  let lateMin = 0;
  let earlyLeaveMin = 0;
  if (shift && bounds) {
    if (firstIn) {
      const lateMs = Date.parse(firstIn.occurredAt) - bounds.start.getTime();
      if (lateMs > shift.lateGraceMin * MINUTE_MS) lateMin = Math.floor(lateMs / MINUTE_MS);
    }
    if (lastOut && !pairing.openSince) {
      const earlyMs = bounds.end.getTime() - Date.parse(lastOut.occurredAt);
      if (earlyMs > shift.earlyLeaveGraceMin * MINUTE_MS) {
        earlyLeaveMin = Math.floor(earlyMs / MINUTE_MS);
      }
    }
  }

  const workedMin = Math.floor(pairing.workedMs / MINUTE_MS);
  return {
    day: group.day,
    user: group.userCode,
    name: group.userName,
    shift: shift?.name ?? null,
    first_check_in: firstIn ? localIso(firstIn) : null,
    last_check_out: lastOut ? localIso(lastOut) : null,
    worked_min: workedMin,
    hours_worked: Math.round((workedMin / 60) * 100) / 100,
    late_min: lateMin,
    early_leave_min: earlyLeaveMin,
    missing_punches: missing,
    state: stillOpen ? 'open' : missing > 0 ? 'incomplete' : 'complete',
  };
}

/** Scheduled days with no punch at all, once the shift has started. */
function absences(input: ReportInput, seen: Set<string>, options: ReportOptions): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const user of input.scheduled) {
    const shift = input.shifts.get(user.shiftId);
    if (!shift) continue;
    // A shift that began before the person was added, or has not begun yet, is no absence.
    const addedAt = Date.parse(user.createdAt);
    for (let day = options.from; day <= options.to; day = addDays(day, 1)) {
      if (seen.has(`${user.userId}|${day}`) || !worksOn(shift, day)) continue;
      const start = shiftBounds(shift, day, options.timeZone).start.getTime();
      if (start < addedAt || start > options.asOf.getTime()) continue;
      rows.push({
        day,
        user: user.userCode,
        name: user.userName,
        shift: shift.name,
        first_check_in: null,
        last_check_out: null,
        worked_min: 0,
        hours_worked: 0,
        late_min: 0,
        early_leave_min: 0,
        missing_punches: 2,
        state: 'absent',
      });
    }
  }
  return rows;
}

/** The report rows for a range of local days, ordered by day, person and shift start. */
export function computeReport(input: ReportInput, options: ReportOptions): ReportRow[] {
  const groups = groupPunches(input.punches, options.from, options.to);
  const rows = groups.map((g) => buildRow(g, shiftOf(input, g.shiftId), options));
  const seen = new Set(groups.map((g) => `${g.userId}|${g.day}`));
  rows.push(...absences(input, seen, options));

  return rows.sort(
    (a, b) =>
      compare(a.day, b.day) ||
      compare(a.user, b.user) ||
      compare(a.first_check_in ?? '', b.first_check_in ?? ''),
  );
}

function shiftOf(input: ReportInput, shiftId: number | null): Shift | undefined {
  return shiftId === null ? undefined : input.shifts.get(shiftId);
}

export interface DayTotals {
  people: number;
  present: number;
  absent: number;
  late: number;
  early_leave: number;
  incomplete: number;
  open: number;
  worked_min: number;
}

export function totals(rows: ReportRow[]): DayTotals {
  const people = new Set(rows.map((r) => r.user));
  const present = new Set(rows.filter((r) => r.state !== 'absent').map((r) => r.user));
  return {
    people: people.size,
    present: present.size,
    absent: rows.filter((r) => r.state === 'absent').length,
    late: rows.filter((r) => r.late_min > 0).length,
    early_leave: rows.filter((r) => r.early_leave_min > 0).length,
    incomplete: rows.filter((r) => r.state === 'incomplete').length,
    open: rows.filter((r) => r.state === 'open').length,
    worked_min: rows.reduce((n, r) => n + r.worked_min, 0),
  };
}
