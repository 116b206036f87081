import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../src/config/schema.js';
import { ConfigError } from '../src/errors.js';
import { uuidv7 } from '../src/ids.js';
import { RetentionJob } from '../src/jobs/retention.js';
import type { Clock, ScheduledRun, Scheduler } from '../src/jobs/schedule.js';
import { silentLogger } from '../src/log.js';
import { countAttendance, insertAttendance } from '../src/store/attendance.js';
import { type Db, openDatabase } from '../src/store/db.js';
import { jobRuns } from '../src/store/jobRuns.js';
import { migrate } from '../src/store/migrate.js';
import { dueRows, enqueue, markDelivered, outboxCounts } from '../src/store/outbox.js';
import { countSightings, insertSighting } from '../src/store/sightings.js';
import { addUser, findUser, removeUser } from '../src/store/users.js';
import { runCli, tempDir } from './helpers.js';

const DAY_MS = 86_400_000;

class FakeClock implements Clock {
  constructor(public current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
}

class FakeScheduler implements Scheduler {
  readonly tasks: { expression: string; run: () => void; active: boolean }[] = [];
  schedule(expression: string, _timeZone: string, run: () => void): ScheduledRun {
    const task = { expression, run, active: true };
    this.tasks.push(task);
    return { stop: () => (task.active = false) };
  }
  fire(): void {
    for (const task of this.tasks) if (task.active) task.run();
  }
}

function config(retention: Record<string, unknown>) {
  return configSchema.parse({ terminal: { timezone: 'Europe/Madrid' }, retention });
}

/** Rows at `ageDays` days before `now`, one minute apart. */
function fill(
  db: Db,
  now: Date,
  counts: { old: number; recent: number },
  attendanceDays: number,
  code = `u${Math.random().toString(36).slice(2, 8)}`,
) {
  const user = addUser(db, { code, name: 'x' });
  let seq = countAttendance(db);
  const at = (days: number, i: number) => new Date(now.getTime() - days * DAY_MS - i * 60_000);
  const rows = [
    ...Array.from({ length: counts.old }, (_, i) => at(attendanceDays + 1, i)),
    ...Array.from({ length: counts.recent }, (_, i) => at(attendanceDays - 1, i)),
  ];
  for (const occurredAt of rows) {
    seq++;
    insertAttendance(db, {
      id: uuidv7(occurredAt.getTime()),
      seq,
      userId: user.id,
      kind: 'check_in',
      occurredAt: occurredAt.toISOString(),
      utcOffsetMin: 60,
      shiftId: null,
      shiftDay: null,
      status: 'outside_shift',
      distance: 0.3,
      camera: 'door',
    });
  }
}

describe('retention', () => {
  it('deletes old attendance and sightings in batches, yielding between them', async () => {
    const db = openDatabase(tempDir());
    migrate(db);
    // The clock is two days ahead: outbox rows delivered now are then more than a day old.
    const clock = new FakeClock(new Date(Date.now() + 2 * DAY_MS));
    const now = clock.now();
    fill(db, now, { old: 90, recent: 10 }, 30);
    // Two people removed while they had punches, so deactivated: one with only old punches
    // disappears with them, the other stays until their recent ones expire.
    fill(db, now, { old: 5, recent: 0 }, 30, 'left-long-ago');
    fill(db, now, { old: 0, recent: 2 }, 30, 'left-recently');
    removeUser(db, 'left-long-ago');
    removeUser(db, 'left-recently');
    for (let i = 0; i < 40; i++) {
      const days = i < 33 ? 8 : 6;
      const occurredAt = new Date(now.getTime() - days * DAY_MS - i * 1000).toISOString();
      insertSighting(db, { occurredAt, camera: 'door', distance: null });
    }
    for (let i = 1; i <= 6; i++) {
      enqueue(db, { eventId: uuidv7(), seq: i, topic: 'attendance', payload: '{}' });
    }
    const ids = dueRows(db, 0, Date.now(), 100).map((r) => r.id);
    markDelivered(db, ids.slice(0, 4));

    const scheduler = new FakeScheduler();
    const job = new RetentionJob(
      {
        db,
        logger: silentLogger(),
        config: config({ attendance_days: 30, sightings_days: 7, batch: 10 }),
      },
      { clock, scheduler },
    );
    await job.start();
    assert.deepEqual(
      scheduler.tasks.map((t) => t.expression),
      ['17 3 * * *'],
    );

    // Something else on the event loop (the frame loop) sees the table shrink batch by batch.
    const seen = new Set<number>();
    let watching = true;
    const watch = () => {
      if (!watching) return;
      seen.add(countAttendance(db));
      setImmediate(watch);
    };
    setImmediate(watch);

    scheduler.fire();
    const result = await job.runOnce();
    watching = false;

    assert.deepEqual(result, {
      attendance: 95,
      sightings: 33,
      outbox: 4,
      users: 1,
      interrupted: false,
    });
    assert.equal(findUser(db, 'left-long-ago'), undefined);
    assert.equal(findUser(db, 'left-recently')?.active, false);
    assert.equal(countAttendance(db), 12);
    assert.equal(countSightings(db), 7);
    assert.deepEqual(outboxCounts(db), { total: 2, pending: 2 });
    const between = [...seen].filter((n) => n > 12 && n < 107);
    assert.ok(between.length >= 5, `saw ${[...seen].join(', ')}`);
    assert.equal(jobRuns(db, 'retention').length, 1);

    // A second pass finds nothing more.
    assert.deepEqual(await job.runOnce(), {
      attendance: 0,
      sightings: 0,
      outbox: 0,
      users: 0,
      interrupted: false,
    });
    await job.stop();
    db.close();
  });

  it('keeps outbox rows delivered less than a day ago, and undelivered ones always', async () => {
    const db = openDatabase(tempDir());
    migrate(db);
    enqueue(db, { eventId: uuidv7(), seq: 1, topic: 'attendance', payload: '{}' });
    enqueue(db, { eventId: uuidv7(), seq: 2, topic: 'attendance', payload: '{}' });
    markDelivered(db, [dueRows(db, 0, Date.now(), 10)[0]!.id]);
    const job = new RetentionJob(
      { db, logger: silentLogger(), config: config({}) },
      { clock: new FakeClock(new Date()), scheduler: new FakeScheduler() },
    );
    await job.start();
    assert.equal((await job.runOnce())?.outbox, 0);
    assert.deepEqual(outboxCounts(db), { total: 2, pending: 1 });
    await job.stop();
    db.close();
  });

  it('stops between batches when the daemon stops', async () => {
    const db = openDatabase(tempDir());
    migrate(db);
    const clock = new FakeClock(new Date());
    fill(db, clock.now(), { old: 50, recent: 0 }, 10);
    const job = new RetentionJob(
      { db, logger: silentLogger(), config: config({ attendance_days: 10, batch: 1 }) },
      { clock, scheduler: new FakeScheduler() },
    );
    await job.start();
    const pass = job.runOnce();
    await job.stop();
    const result = await pass;
    assert.equal(result?.interrupted, true);
    assert.ok(countAttendance(db) > 0 && countAttendance(db) < 50);
    assert.equal(jobRuns(db, 'retention').length, 0);
    db.close();
  });

  it('refuses an invalid schedule at start', async () => {
    const db = openDatabase(tempDir());
    migrate(db);
    const job = new RetentionJob(
      { db, logger: silentLogger(), config: config({ schedule: 'every night' }) },
      { clock: new FakeClock(new Date()), scheduler: new FakeScheduler() },
    );
    await assert.rejects(
      job.start(),
      (err: unknown) =>
        err instanceof ConfigError && /retention.schedule: 'every night'/.test(err.message),
    );
    db.close();
  });
});

describe('presente retention run', () => {
  it('deletes what is past retention at once', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    migrate(db);
    fill(db, new Date(), { old: 3, recent: 2 }, 10);
    db.close();

    const result = await runCli(['retention', 'run', '--json'], {
      PRESENTE_DATA_DIR: dir,
      PRESENTE_RETENTION_ATTENDANCE_DAYS: '10',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      attendance: 3,
      sightings: 0,
      outbox: 0,
      users: 0,
      interrupted: false,
    });
  });
});
