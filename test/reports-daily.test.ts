import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PunchKind } from '../src/attendance/event.js';
import { uuidv7 } from '../src/ids.js';
import { computeReport, type ReportRow } from '../src/reports/daily.js';
import { toCsv, toTable } from '../src/reports/format.js';
import { buildReport } from '../src/reports/report.js';
import { insertAttendance } from '../src/store/attendance.js';
import { type Db, openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { findShift, listShifts, upsertShift, WEEKDAYS } from '../src/store/shifts.js';
import { addUser } from '../src/store/users.js';
import { addDays, utcOffsetMin, zonedTime } from '../src/time.js';
import { tempDir } from './helpers.js';

const ZONE = 'Europe/Madrid';
const EVERY_DAY = [...WEEKDAYS];

function storeWithShifts(): Db {
  const db = openDatabase(tempDir());
  migrate(db);
  const shifts = [
    { name: 'morning', start: '08:00', end: '16:00' },
    { name: 'night', start: '22:00', end: '06:00', lateGraceMin: 10, earlyLeaveGraceMin: 10 },
    { name: 'dawn', start: '00:00', end: '08:00' },
    { name: 'am', start: '08:00', end: '12:00' },
    { name: 'pm', start: '16:00', end: '20:00' },
  ];
  for (const shift of shifts) upsertShift(db, { weekdays: EVERY_DAY, ...shift });
  return db;
}

/** [local date, HH:MM, kind, shift, shift day (defaults to the date)] */
type PunchSpec = [string, string, PunchKind, string | null, string?];

let seq = 0;
function punch(db: Db, userId: number, [date, time, kind, shiftName, shiftDay]: PunchSpec) {
  const at = zonedTime(date, time, ZONE);
  const shift = shiftName ? findShift(db, shiftName) : undefined;
  seq++;
  insertAttendance(db, {
    id: uuidv7(at.getTime()),
    seq,
    userId,
    kind,
    occurredAt: at.toISOString(),
    utcOffsetMin: utcOffsetMin(at, ZONE),
    shiftId: shift?.id ?? null,
    shiftDay: shift ? (shiftDay ?? date) : null,
    status: 'on_time',
    distance: 0.3,
    camera: 'door',
  });
}

interface Case {
  name: string;
  day: string;
  /** Defaults to two days after `day`, when every shift of the day is over. */
  asOf?: string;
  punches: PunchSpec[];
  expected: Partial<ReportRow>[];
}

const cases: Case[] = [
  {
    name: 'normal day',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '07:55', 'check_in', 'morning'],
      ['2026-12-03', '16:02', 'check_out', 'morning'],
    ],
    expected: [
      {
        shift: 'morning',
        first_check_in: '2026-12-03T07:55:00+01:00',
        last_check_out: '2026-12-03T16:02:00+01:00',
        worked_min: 487,
        hours_worked: 8.12,
        late_min: 0,
        early_leave_min: 0,
        missing_punches: 0,
        state: 'complete',
      },
    ],
  },
  {
    name: 'late arrival',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '08:20', 'check_in', 'morning'],
      ['2026-12-03', '16:00', 'check_out', 'morning'],
    ],
    expected: [{ worked_min: 460, late_min: 20, early_leave_min: 0, state: 'complete' }],
  },
  {
    name: 'arrival within the grace period',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '08:05', 'check_in', 'morning'],
      ['2026-12-03', '16:00', 'check_out', 'morning'],
    ],
    expected: [{ late_min: 0 }],
  },
  {
    name: 'early leave',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '08:00', 'check_in', 'morning'],
      ['2026-12-03', '15:30', 'check_out', 'morning'],
    ],
    expected: [{ worked_min: 450, late_min: 0, early_leave_min: 30, state: 'complete' }],
  },
  {
    name: 'missing check-out',
    day: '2026-12-03',
    punches: [['2026-12-03', '08:00', 'check_in', 'morning']],
    expected: [{ last_check_out: null, worked_min: 0, missing_punches: 1, state: 'incomplete' }],
  },
  {
    name: 'check-out not yet due (shift in progress)',
    day: '2026-12-03',
    asOf: '2026-12-03T12:00:00+01:00',
    punches: [['2026-12-03', '08:00', 'check_in', 'morning']],
    expected: [{ missing_punches: 0, state: 'open' }],
  },
  {
    name: 'missing check-in',
    day: '2026-12-03',
    punches: [['2026-12-03', '16:00', 'check_out', 'morning']],
    expected: [{ first_check_in: null, late_min: 0, missing_punches: 1, state: 'incomplete' }],
  },
  {
    name: 'overnight shift, reported on the day it started',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '22:15', 'check_in', 'night'],
      ['2026-12-04', '06:03', 'check_out', 'night', '2026-12-03'],
    ],
    expected: [
      {
        day: '2026-12-03',
        shift: 'night',
        last_check_out: '2026-12-04T06:03:00+01:00',
        worked_min: 468,
        late_min: 15,
        early_leave_min: 0,
        state: 'complete',
      },
    ],
  },
  {
    name: 'night shift across the autumn change (25 Oct 2026): nine real hours',
    day: '2026-10-24',
    punches: [
      ['2026-10-24', '22:00', 'check_in', 'night'],
      ['2026-10-25', '06:00', 'check_out', 'night', '2026-10-24'],
    ],
    expected: [
      {
        first_check_in: '2026-10-24T22:00:00+02:00',
        last_check_out: '2026-10-25T06:00:00+01:00',
        worked_min: 540,
        late_min: 0,
        early_leave_min: 0,
      },
    ],
  },
  {
    name: 'night shift across the spring change (29 Mar 2026): seven real hours',
    day: '2026-03-28',
    punches: [
      ['2026-03-28', '22:00', 'check_in', 'night'],
      ['2026-03-29', '05:55', 'check_out', 'night', '2026-03-28'],
    ],
    expected: [{ worked_min: 415, early_leave_min: 0, state: 'complete' }],
  },
  {
    name: 'daylight-saving day: a dawn shift that leaves at the shift end is not early',
    day: '2026-10-25',
    punches: [
      ['2026-10-25', '00:00', 'check_in', 'dawn'],
      ['2026-10-25', '07:30', 'check_out', 'dawn'],
    ],
    expected: [{ worked_min: 510, late_min: 0, early_leave_min: 30 }],
  },
  {
    name: 'two shifts in a day',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '07:58', 'check_in', 'am'],
      ['2026-12-03', '12:00', 'check_out', 'am'],
      ['2026-12-03', '16:10', 'check_in', 'pm'],
      ['2026-12-03', '19:45', 'check_out', 'pm'],
    ],
    expected: [
      { shift: 'am', worked_min: 242, late_min: 0, early_leave_min: 0, state: 'complete' },
      { shift: 'pm', worked_min: 215, late_min: 10, early_leave_min: 15, state: 'complete' },
    ],
  },
  {
    name: 'lunch break: worked time is the sum of the periods',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '08:00', 'check_in', 'morning'],
      ['2026-12-03', '12:00', 'check_out', 'morning'],
      ['2026-12-03', '13:00', 'check_in', 'morning'],
      ['2026-12-03', '16:00', 'check_out', 'morning'],
    ],
    expected: [
      {
        first_check_in: '2026-12-03T08:00:00+01:00',
        last_check_out: '2026-12-03T16:00:00+01:00',
        worked_min: 420,
        missing_punches: 0,
      },
    ],
  },
  {
    name: 'later passes through the door move the check-out',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '08:00', 'check_in', 'morning'],
      ['2026-12-03', '12:00', 'check_out', 'morning'],
      ['2026-12-03', '16:00', 'check_out', 'morning'],
    ],
    expected: [{ last_check_out: '2026-12-03T16:00:00+01:00', worked_min: 480 }],
  },
  {
    name: 'a check-in outside any shift joins the day’s shift',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '06:30', 'check_in', null],
      ['2026-12-03', '16:00', 'check_out', 'morning'],
    ],
    expected: [{ shift: 'morning', worked_min: 570, missing_punches: 0 }],
  },
  {
    name: 'forgotten check-out before a second check-in',
    day: '2026-12-03',
    punches: [
      ['2026-12-03', '08:00', 'check_in', 'morning'],
      ['2026-12-03', '13:00', 'check_in', 'morning'],
      ['2026-12-03', '16:00', 'check_out', 'morning'],
    ],
    expected: [{ worked_min: 180, missing_punches: 1, state: 'incomplete' }],
  },
];

function pick(row: ReportRow, keys: string[]): Partial<ReportRow> {
  return Object.fromEntries(keys.map((k) => [k, row[k as keyof ReportRow]]));
}

describe('daily report', () => {
  for (const c of cases) {
    it(c.name, () => {
      const db = storeWithShifts();
      const user = addUser(db, { code: 'ana', name: 'Ana Pérez' });
      for (const p of c.punches) punch(db, user.id, p);
      const asOf = c.asOf ? new Date(c.asOf) : zonedTime(c.day, '23:59', ZONE);
      if (!c.asOf) asOf.setUTCDate(asOf.getUTCDate() + 2);

      const rows = buildReport(db, { from: c.day, to: c.day, timeZone: ZONE, asOf });
      assert.equal(rows.length, c.expected.length, JSON.stringify(rows, null, 2));
      c.expected.forEach((expected, i) => {
        assert.deepEqual(pick(rows[i]!, Object.keys(expected)), expected);
      });
      db.close();
    });
  }

  it('reports a scheduled day without punches as an absence, once the shift has begun', () => {
    const db = storeWithShifts();
    const shifts = new Map(listShifts(db).map((s) => [s.id, s]));
    const morning = findShift(db, 'morning')!;
    const scheduled = [
      {
        userId: 1,
        userCode: 'ben',
        userName: 'Ben',
        shiftId: morning.id,
        createdAt: '2026-12-02T10:00:00.000Z',
      },
    ];
    const options = { from: '2026-12-01', to: '2026-12-04', timeZone: ZONE };
    const rows = computeReport(
      { punches: [], shifts, scheduled },
      { ...options, asOf: new Date('2026-12-04T06:30:00Z') },
    );
    // Not on the 1st, nor on the 2nd (added at 11:00 local, after that day's shift began),
    // nor on the 4th (at 07:30 local the shift has not begun).
    assert.deepEqual(
      rows.map((r) => [r.day, r.state, r.missing_punches]),
      [['2026-12-03', 'absent', 2]],
    );
    db.close();
  });

  it('filters by user and keeps each day in range', () => {
    const db = storeWithShifts();
    const ana = addUser(db, { code: 'ana', name: 'Ana' });
    const ben = addUser(db, { code: 'ben', name: 'Ben' });
    for (const day of ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03']) {
      punch(db, ana.id, [day, '08:00', 'check_in', 'morning']);
      punch(db, ana.id, [day, '16:00', 'check_out', 'morning']);
      punch(db, ben.id, [day, '22:00', 'check_in', 'night']);
      punch(db, ben.id, [addDays(day, 1), '06:00', 'check_out', 'night', day]);
    }
    const asOf = new Date('2026-12-10T00:00:00Z');
    const request = { from: '2026-12-01', to: '2026-12-02', timeZone: ZONE, asOf };

    const all = buildReport(db, request);
    assert.deepEqual(
      all.map((r) => `${r.day} ${r.user} ${r.worked_min}`),
      ['2026-12-01 ana 480', '2026-12-01 ben 480', '2026-12-02 ana 480', '2026-12-02 ben 480'],
    );
    const onlyBen = buildReport(db, { ...request, user: 'ben' });
    assert.deepEqual(
      onlyBen.map((r) => r.user),
      ['ben', 'ben'],
    );
    db.close();
  });
});

describe('report formats', () => {
  const row: ReportRow = {
    day: '2026-12-03',
    user: 'ana',
    name: '=HYPERLINK("http://x"), "Ana"',
    shift: 'night',
    first_check_in: '2026-12-03T22:01:00+01:00',
    last_check_out: '2026-12-04T06:00:00+01:00',
    worked_min: 479,
    hours_worked: 7.98,
    late_min: 0,
    early_leave_min: 0,
    missing_punches: 0,
    state: 'complete',
  };

  it('writes CSV with quoting and without formulas a spreadsheet would run', () => {
    const csv = toCsv([row]);
    const [header, line] = csv.split('\r\n');
    assert.equal(
      header,
      'day,user,name,shift,first_check_in,last_check_out,worked_min,hours_worked,late_min,' +
        'early_leave_min,missing_punches,state',
    );
    assert.equal(
      line,
      '2026-12-03,ana,"\'=HYPERLINK(""http://x""), ""Ana""",night,2026-12-03T22:01:00+01:00,' +
        '2026-12-04T06:00:00+01:00,479,7.98,0,0,0,complete',
    );
  });

  it('shows a check-out on the next day with its date in the table', () => {
    const text = toTable([row]);
    assert.match(text, /22:01\s+12-04 06:00\s+7:59/);
  });
});
