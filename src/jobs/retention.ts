import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import type { Module, Runtime } from '../daemon.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { touchRun } from '../store/jobRuns.js';
import {
  deleteAttendanceBefore,
  deleteDeliveredOutbox,
  deleteRetiredUsers,
  deleteSightingsBefore,
} from '../store/retention.js';
import { localDate } from '../time.js';
import {
  type Clock,
  checkCron,
  cronScheduler,
  type ScheduledRun,
  type Scheduler,
  systemClock,
} from './schedule.js';
import type { JobOptions } from './summary.js';

export const RETENTION_JOB = 'retention';
const DAY_MS = 86_400_000;
/**
 * Delivered outbox rows are kept a day: long enough to look into a delivery, short enough
 * that the outbox does not become a second copy of the attendance table.
 */
export const DELIVERED_OUTBOX_KEEP_MS = DAY_MS;

export interface RetentionResult {
  attendance: number;
  sightings: number;
  outbox: number;
  /** Deactivated people whose last punch was deleted: now gone entirely. */
  users: number;
  /** The run stopped early because the daemon is stopping. */
  interrupted: boolean;
}

export interface RetentionSettings {
  attendanceDays: number;
  sightingsDays: number;
  batch: number;
}

/**
 * Deletes in batches of `batch` rows, each in its own short transaction, and yields to the
 * event loop between batches, so the frame loop and the recorder never wait long for the
 * database or the CPU.
 */
async function inBatches(
  deleteBatch: () => number,
  batch: number,
  shouldStop: () => boolean,
): Promise<{ deleted: number; interrupted: boolean }> {
  let deleted = 0;
  for (;;) {
    if (shouldStop()) return { deleted, interrupted: true };
    const n = deleteBatch();
    deleted += n;
    if (n < batch) return { deleted, interrupted: false };
    await nextTurn();
  }
}

export async function runRetention(
  db: Db,
  settings: RetentionSettings,
  now: Date,
  shouldStop: () => boolean = () => false,
): Promise<RetentionResult> {
  const before = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const attendanceCutoff = before(settings.attendanceDays * DAY_MS);
  const sightingsCutoff = before(settings.sightingsDays * DAY_MS);
  const outboxCutoff = before(DELIVERED_OUTBOX_KEEP_MS);
  const { batch } = settings;

  const attendance = await inBatches(
    () => deleteAttendanceBefore(db, attendanceCutoff, batch),
    batch,
    shouldStop,
  );
  const users = await inBatches(() => deleteRetiredUsers(db, batch), batch, shouldStop);
  const sightings = await inBatches(
    () => deleteSightingsBefore(db, sightingsCutoff, batch),
    batch,
    shouldStop,
  );
  const outbox = await inBatches(
    () => deleteDeliveredOutbox(db, outboxCutoff, batch),
    batch,
    shouldStop,
  );
  return {
    attendance: attendance.deleted,
    sightings: sightings.deleted,
    outbox: outbox.deleted,
    users: users.deleted,
    interrupted: [attendance, users, sightings, outbox].some((step) => step.interrupted),
  };
}

type JobRuntime = Pick<Runtime, 'db' | 'logger'> & {
  config: Pick<Config, 'terminal' | 'retention'>;
};

/** Deletes what is older than the retention periods, on retention.schedule. */
export class RetentionJob implements Module {
  readonly name = 'retention';
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private run: ScheduledRun | undefined;
  private running: Promise<RetentionResult | undefined> | undefined;
  private stopping = false;

  constructor(
    private readonly runtime: JobRuntime,
    options: JobOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.scheduler ?? cronScheduler;
    this.log = runtime.logger.child({ module: 'retention' });
  }

  async start(): Promise<void> {
    const { schedule } = this.runtime.config.retention;
    checkCron('retention.schedule', schedule);
    this.stopping = false;
    this.run = this.scheduler.schedule(schedule, this.runtime.config.terminal.timezone, () => {
      void this.runOnce();
    });
    this.log.debug({ schedule }, 'retention scheduled');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.run?.stop();
    this.run = undefined;
    await this.running;
  }

  /** One retention pass; a pass already under way is shared rather than doubled. */
  runOnce(): Promise<RetentionResult | undefined> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<RetentionResult | undefined> {
    const { attendance_days, sightings_days, batch } = this.runtime.config.retention;
    const now = this.clock.now();
    try {
      const result = await runRetention(
        this.runtime.db,
        { attendanceDays: attendance_days, sightingsDays: sightings_days, batch },
        now,
        () => this.stopping,
      );
      if (!result.interrupted) {
        const day = localDate(now, this.runtime.config.terminal.timezone);
        touchRun(this.runtime.db, RETENTION_JOB, day, now);
      }
      this.log.info({ ...result }, 'retention done');
      return result;
    } catch (err) {
      this.log.error({ err }, 'retention failed; it runs again at the next scheduled time');
      return undefined;
    }
  }
}
