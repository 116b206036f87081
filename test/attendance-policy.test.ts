import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AttendanceMode,
  decidePunch,
  isDuplicate,
  type PreviousPunch,
  type PunchDecision,
} from '../src/attendance/policy.js';
import type { Shift } from '../src/store/shifts.js';
import { zonedTime } from '../src/time.js';

const ZONE = 'Europe/Madrid';

function shift(fields: Partial<Shift> & Pick<Shift, 'name' | 'start' | 'end'>): Shift {
  return {
    id: 1,
    weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
    lateGraceMin: 5,
    earlyLeaveGraceMin: 5,
    checkinOpensMin: 60,
    overnight: fields.end <= fields.start,
    ...fields,
  };
}

const morning = shift({ id: 1, name: 'morning', start: '08:00', end: '16:00' });
const night = shift({
  id: 3,
  name: 'night',
  start: '22:00',
  end: '06:00',
  weekdays: ['sun', 'mon', 'tue', 'wed', 'thu'],
  lateGraceMin: 10,
  earlyLeaveGraceMin: 10,
});
const saturdayNight = shift({
  id: 4,
  name: 'sat-night',
  start: '22:00',
  end: '06:00',
  weekdays: ['sat'],
});

/** A local wall-clock time in Madrid, plus seconds. */
function at(date: string, hhmm: string, seconds = 0): Date {
  return new Date(zonedTime(date, hhmm, ZONE).getTime() + seconds * 1000);
}

function checkedIn(date: string, hhmm: string, shiftDay = date): PreviousPunch {
  return { kind: 'check_in', shiftDay, occurredAt: at(date, hhmm) };
}

interface Case {
  name: string;
  when: Date;
  shift: Shift | null;
  previous?: PreviousPunch;
  mode?: AttendanceMode;
  expect: Partial<PunchDecision>;
}

// 2026-12-02 is a Wednesday; 2026-12-05 a Saturday. Madrid is at +01:00 in December.
const cases: Case[] = [
  {
    name: 'early: within the hour before the start is an on-time check-in',
    when: at('2026-12-02', '07:30'),
    shift: morning,
    expect: { kind: 'check_in', status: 'on_time', shiftDay: '2026-12-02', shiftName: 'morning' },
  },
  {
    name: 'on time at the start',
    when: at('2026-12-02', '08:00'),
    shift: morning,
    expect: { kind: 'check_in', status: 'on_time' },
  },
  {
    name: 'grace edge: exactly start + grace is on time',
    when: at('2026-12-02', '08:05'),
    shift: morning,
    expect: { kind: 'check_in', status: 'on_time' },
  },
  {
    name: 'grace edge: one second after start + grace is late',
    when: at('2026-12-02', '08:05', 1),
    shift: morning,
    expect: { kind: 'check_in', status: 'late' },
  },
  {
    name: 'late',
    when: at('2026-12-02', '09:30'),
    shift: morning,
    expect: { kind: 'check_in', status: 'late', shiftDay: '2026-12-02' },
  },
  {
    name: 'too early for the shift: outside it',
    when: at('2026-12-02', '06:30'),
    shift: morning,
    expect: { kind: 'check_in', status: 'outside_shift', shiftName: null, shiftId: null },
  },
  {
    name: 'early leave: check-out more than the grace before the end',
    when: at('2026-12-02', '15:54', 59),
    shift: morning,
    previous: checkedIn('2026-12-02', '08:00'),
    expect: { kind: 'check_out', status: 'early_leave', shiftDay: '2026-12-02' },
  },
  {
    name: 'check-out within the grace before the end is on time',
    when: at('2026-12-02', '15:55'),
    shift: morning,
    previous: checkedIn('2026-12-02', '08:00'),
    expect: { kind: 'check_out', status: 'on_time' },
  },
  {
    name: 'overtime: check-out after the end plus grace',
    when: at('2026-12-02', '17:30'),
    shift: morning,
    previous: checkedIn('2026-12-02', '08:00'),
    expect: { kind: 'check_out', status: 'overtime', shiftName: 'morning' },
  },
  {
    name: "yesterday's check-in does not make today's first punch a check-out",
    when: at('2026-12-02', '08:01'),
    shift: morning,
    previous: checkedIn('2026-12-01', '08:00'),
    expect: { kind: 'check_in', status: 'on_time', shiftDay: '2026-12-02' },
  },
  {
    name: 'weekend: a weekday shift on Saturday is outside the shift',
    when: at('2026-12-05', '09:00'),
    shift: morning,
    expect: { kind: 'check_in', status: 'outside_shift', shiftDay: '2026-12-05', shiftId: null },
  },
  {
    name: 'a user without a shift: outside shift, counted by local date',
    when: at('2026-12-02', '10:00'),
    shift: null,
    expect: { kind: 'check_in', status: 'outside_shift', shiftDay: '2026-12-02', shiftName: null },
  },
  {
    name: 'overnight: check-in before 22:00 belongs to that evening',
    when: at('2026-12-02', '21:55'),
    shift: night,
    expect: { kind: 'check_in', status: 'on_time', shiftDay: '2026-12-02', shiftName: 'night' },
  },
  {
    name: 'overnight: check-out at 06:02 next morning belongs to the day the shift started',
    when: at('2026-12-03', '06:02'),
    shift: night,
    previous: checkedIn('2026-12-02', '21:55'),
    expect: { kind: 'check_out', status: 'on_time', shiftDay: '2026-12-02' },
  },
  {
    name: 'overnight: check-out at 03:00 is an early leave',
    when: at('2026-12-03', '03:00'),
    shift: night,
    previous: checkedIn('2026-12-02', '21:55'),
    expect: { kind: 'check_out', status: 'early_leave', shiftDay: '2026-12-02' },
  },
  {
    name: 'overnight: late check-in after midnight still counts for the evening shift',
    when: at('2026-12-03', '00:30'),
    shift: night,
    expect: { kind: 'check_in', status: 'late', shiftDay: '2026-12-02' },
  },
  {
    name: 'clocks go forward (29 March): 06:00 ends a seven-hour night on time',
    when: new Date('2026-03-29T04:00:00Z'),
    shift: saturdayNight,
    previous: {
      kind: 'check_in',
      shiftDay: '2026-03-28',
      occurredAt: new Date('2026-03-28T21:00:00Z'),
    },
    expect: { kind: 'check_out', status: 'on_time', shiftDay: '2026-03-28' },
  },
  {
    name: 'clocks go back (25 October): eight real hours end an hour early on the wall clock',
    when: new Date('2026-10-25T04:00:00Z'),
    shift: saturdayNight,
    previous: {
      kind: 'check_in',
      shiftDay: '2026-10-24',
      occurredAt: new Date('2026-10-24T20:00:00Z'),
    },
    expect: { kind: 'check_out', status: 'early_leave', shiftDay: '2026-10-24' },
  },
  {
    name: 'clocks go back: 06:00 local is nine real hours after 22:00, on time',
    when: new Date('2026-10-25T05:00:00Z'),
    shift: saturdayNight,
    previous: {
      kind: 'check_in',
      shiftDay: '2026-10-24',
      occurredAt: new Date('2026-10-24T20:00:00Z'),
    },
    expect: { kind: 'check_out', status: 'on_time', shiftDay: '2026-10-24' },
  },
  {
    name: 'in_only: every punch is a check-in',
    when: at('2026-12-02', '12:00'),
    shift: morning,
    previous: checkedIn('2026-12-02', '08:00'),
    mode: 'in_only',
    expect: { kind: 'check_in', status: 'late' },
  },
  {
    name: 'out_only: every punch is a check-out',
    when: at('2026-12-02', '16:00'),
    shift: morning,
    mode: 'out_only',
    expect: { kind: 'check_out', status: 'on_time' },
  },
  {
    name: 'toggle: after a check-out comes a check-in',
    when: at('2026-12-02', '13:30'),
    shift: morning,
    previous: { kind: 'check_out', shiftDay: '2026-12-02', occurredAt: at('2026-12-02', '13:00') },
    mode: 'toggle',
    expect: { kind: 'check_in', status: 'late' },
  },
  {
    name: 'toggle: after a check-in comes a check-out',
    when: at('2026-12-02', '13:00'),
    shift: morning,
    previous: checkedIn('2026-12-02', '08:00'),
    mode: 'toggle',
    expect: { kind: 'check_out', status: 'early_leave' },
  },
  {
    name: 'auto: after a check-out the day goes on with check-outs',
    when: at('2026-12-02', '16:01'),
    shift: morning,
    previous: { kind: 'check_out', shiftDay: '2026-12-02', occurredAt: at('2026-12-02', '13:00') },
    expect: { kind: 'check_out', status: 'on_time' },
  },
];

describe('attendance policy', () => {
  for (const c of cases) {
    test(c.name, () => {
      const decision = decidePunch({
        at: c.when,
        timeZone: ZONE,
        shift: c.shift,
        mode: c.mode ?? 'auto',
        previous: c.previous,
      });
      const picked = Object.fromEntries(
        Object.keys(c.expect).map((k) => [k, decision[k as keyof PunchDecision]]),
      );
      assert.deepEqual(picked, c.expect);
    });
  }

  test('a punch within the duplicate period is a duplicate, at the period it is not', () => {
    const previous = checkedIn('2026-12-02', '08:00');
    assert.equal(isDuplicate(previous, at('2026-12-02', '08:00', 59), 60), true);
    assert.equal(isDuplicate(previous, at('2026-12-02', '08:01'), 60), false);
    assert.equal(isDuplicate(undefined, at('2026-12-02', '08:01'), 60), false);
    assert.equal(isDuplicate(previous, at('2026-12-02', '08:00', 30), 0), false);
  });
});
