import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { type Punch, type RecorderContext, recordPunch } from '../src/attendance/recorder.js';
import { configSchema } from '../src/config/schema.js';
import { DaemonBus } from '../src/events.js';
import type { Clock, ScheduledRun, Scheduler } from '../src/jobs/schedule.js';
import { latestDueDay, missedDays, SummaryJob, type SummaryPayload } from '../src/jobs/summary.js';
import { silentLogger } from '../src/log.js';
import { findBiometrics } from '../src/privacy/scan.js';
import { type Db, openDatabase } from '../src/store/db.js';
import { jobRuns } from '../src/store/jobRuns.js';
import { migrate } from '../src/store/migrate.js';
import { dueRows } from '../src/store/outbox.js';
import { findShift, upsertShift, WEEKDAYS } from '../src/store/shifts.js';
import { addUser } from '../src/store/users.js';
import { zonedTime } from '../src/time.js';
import { root, tempDir } from './helpers.js';

const ZONE = 'Europe/Madrid';

class FakeClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  /** Local wall-clock time in the terminal's zone. */
  set(date: string, time: string): void {
    this.current = zonedTime(date, time, ZONE);
  }
}

/** Records what was scheduled; the test decides when the time has come. */
class FakeScheduler implements Scheduler {
  readonly tasks: { expression: string; timeZone: string; run: () => void; active: boolean }[] = [];
  schedule(expression: string, timeZone: string, run: () => void): ScheduledRun {
    const task = { expression, timeZone, run, active: true };
    this.tasks.push(task);
    return { stop: () => (task.active = false) };
  }
  fire(): void {
    for (const task of this.tasks) if (task.active) task.run();
  }
}

const validate = new Ajv2020.default({ allErrors: true, strict: true }).compile(
  JSON.parse(readFileSync(join(root, 'docs', 'summary.schema.json'), 'utf8')),
);

/** The queued summaries, each checked against the documented schema. */
function summaries(db: Db): SummaryPayload[] {
  return dueRows(db, 0, Date.now(), 1000)
    .filter((r) => r.topic === 'summary')
    .map((r) => {
      const payload = JSON.parse(r.payload) as SummaryPayload;
      assert.ok(validate(payload), JSON.stringify(validate.errors));
      return payload;
    });
}

function config(summary: Record<string, unknown> = {}) {
  return configSchema.parse({ terminal: { id: 'door-1', timezone: ZONE }, summary });
}

const recorder: RecorderContext = {
  terminalId: 'door-1',
  timeZone: ZONE,
  modelVersion: 'test',
  clockSynced: () => true,
};

function prepare(dir: string): Db {
  const db = openDatabase(dir);
  migrate(db);
  upsertShift(db, { name: 'morning', start: '08:00', end: '16:00', weekdays: [...WEEKDAYS] });
  upsertShift(db, { name: 'night', start: '22:00', end: '06:00', weekdays: [...WEEKDAYS] });
  addUser(db, { code: 'ana', name: 'Ana', shift: 'morning' });
  addUser(db, { code: 'ben', name: 'Ben', shift: 'night' });
  return db;
}

function punch(
  db: Db,
  code: 'ana' | 'ben',
  day: string,
  date: string,
  time: string,
  kind: Punch['kind'],
) {
  const shift = findShift(db, code === 'ana' ? 'morning' : 'night')!;
  recordPunch(db, recorder, {
    userId: code === 'ana' ? 1 : 2,
    userCode: code,
    userName: code,
    kind,
    status: 'on_time',
    occurredAt: zonedTime(date, time, ZONE),
    shiftId: shift.id,
    shiftName: shift.name,
    shiftDay: day,
    distance: 0.3,
    camera: 'door',
  });
}

describe('daily summary', () => {
  it('finds the day due and the days missed', () => {
    const late = { time: '23:55', day: 'current' } as const;
    assert.equal(latestDueDay(zonedTime('2026-12-03', '23:54', ZONE), late, ZONE), '2026-12-02');
    assert.equal(latestDueDay(zonedTime('2026-12-03', '23:55', ZONE), late, ZONE), '2026-12-03');
    const early = { time: '06:30', day: 'previous' } as const;
    assert.equal(latestDueDay(zonedTime('2026-12-04', '06:30', ZONE), early, ZONE), '2026-12-03');
    assert.deepEqual(missedDays(null, '2026-12-03'), []);
    assert.deepEqual(missedDays('2026-12-03', '2026-12-03'), []);
    assert.deepEqual(missedDays('2026-12-01', '2026-12-03'), ['2026-12-02', '2026-12-03']);
    assert.equal(missedDays('2026-10-01', '2026-12-03').length, 7);
  });

  it('queues each day once, across restarts, and catches up a day missed while stopped', async () => {
    const dir = tempDir();
    let db = prepare(dir);
    punch(db, 'ana', '2026-12-03', '2026-12-03', '08:12', 'check_in');
    punch(db, 'ana', '2026-12-03', '2026-12-03', '16:00', 'check_out');

    const clock = new FakeClock(zonedTime('2026-12-03', '20:00', ZONE));
    const scheduler = new FakeScheduler();
    const bus = new DaemonBus();
    let wakeUps = 0;
    bus.on('outbox', () => wakeUps++);
    const runtime = () => ({ db, bus, logger: silentLogger(), config: config() });

    // First start, before the summary time: nothing to catch up.
    const first = new SummaryJob(runtime(), { clock, scheduler });
    await first.start();
    assert.deepEqual(
      scheduler.tasks.map((t) => [t.expression, t.timeZone]),
      [['55 23 * * *', ZONE]],
    );
    assert.equal(summaries(db).length, 0);

    // The cron fires at 23:55; a second firing the same day changes nothing.
    clock.set('2026-12-03', '23:55');
    scheduler.fire();
    scheduler.fire();
    let queued = summaries(db);
    assert.equal(queued.length, 1);
    assert.equal(wakeUps, 1);
    const [summary] = queued as [SummaryPayload];
    assert.equal(summary.day, '2026-12-03');
    assert.equal(summary.terminal_id, 'door-1');
    assert.equal(summary.seq, 1);
    assert.match(summary.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    assert.equal(summary.generated_at, '2026-12-03T23:55:00.000+01:00');
    // Ben (night shift) may also be listed, absent so far, depending on when he was added.
    const ana = summary.people.find((p) => p.user === 'ana');
    assert.deepEqual([ana?.state, ana?.worked_min, ana?.late_min], ['complete', 468, 12]);
    assert.equal(summary.totals.present, 1);
    assert.deepEqual(findBiometrics(summary), []);
    await first.stop();

    // A restart a few minutes later, on the same database file: no second summary.
    db.close();
    db = openDatabase(dir);
    clock.set('2026-12-03', '23:58');
    const second = new SummaryJob(runtime(), { clock, scheduler });
    await second.start();
    assert.equal(summaries(db).length, 1);

    // Stopped over the next summary time; started again the day after: the 4th is caught up.
    clock.set('2026-12-04', '10:00');
    await second.stop();
    punch(db, 'ana', '2026-12-04', '2026-12-04', '08:00', 'check_in');
    clock.set('2026-12-05', '09:00');
    const third = new SummaryJob(runtime(), { clock, scheduler });
    await third.start();
    queued = summaries(db);
    assert.deepEqual(
      queued.map((s) => [s.day, s.seq]),
      [
        ['2026-12-03', 1],
        ['2026-12-04', 2],
      ],
    );
    assert.equal(queued[1]?.people[0]?.missing_punches, 1);

    clock.set('2026-12-05', '23:55');
    scheduler.fire();
    assert.deepEqual(
      summaries(db).map((s) => s.day),
      ['2026-12-03', '2026-12-04', '2026-12-05'],
    );
    assert.deepEqual(
      jobRuns(db, 'summary').map((r) => r.runKey),
      ['2026-12-03', '2026-12-04', '2026-12-05'],
    );
    await third.stop();
    db.close();
  });

  it('summarises the previous day from an early-morning time, night shifts complete', async () => {
    const db = prepare(tempDir());
    punch(db, 'ben', '2026-12-03', '2026-12-03', '22:00', 'check_in');
    punch(db, 'ben', '2026-12-03', '2026-12-04', '06:00', 'check_out');
    const clock = new FakeClock(zonedTime('2026-12-04', '06:30', ZONE));
    const scheduler = new FakeScheduler();
    const runtime = {
      db,
      bus: new DaemonBus(),
      logger: silentLogger(),
      config: config({ time: '06:30', day: 'previous' }),
    };
    const job = new SummaryJob(runtime, { clock, scheduler });
    await job.start();
    scheduler.fire();

    const [summary] = summaries(db);
    assert.equal(summary?.day, '2026-12-03');
    const ben = summary?.people.find((p) => p.user === 'ben');
    assert.deepEqual([ben?.state, ben?.worked_min], ['complete', 480]);
    await job.stop();
    db.close();
  });

  it('does nothing when disabled', async () => {
    const db = prepare(tempDir());
    const scheduler = new FakeScheduler();
    const job = new SummaryJob(
      { db, bus: new DaemonBus(), logger: silentLogger(), config: config({ enabled: false }) },
      { clock: new FakeClock(new Date()), scheduler },
    );
    await job.start();
    assert.equal(scheduler.tasks.length, 0);
    await job.stop();
    db.close();
  });
});
