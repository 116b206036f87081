import type { Config } from '../config/schema.js';
import type { Module, Runtime } from '../daemon.js';
import { uuidv7 } from '../ids.js';
import type { Logger } from '../log.js';
import { softwareVersion } from '../paths.js';
import { assertNoBiometrics } from '../privacy/scan.js';
import { type DayTotals, type ReportRow, totals } from '../reports/daily.js';
import { buildReport } from '../reports/report.js';
import { nextValue } from '../store/counters.js';
import type { Db } from '../store/db.js';
import { hasRun, lastRunKey, recordRun } from '../store/jobRuns.js';
import { enqueue } from '../store/outbox.js';
import { addDays, isoWithOffset, localDate, zonedTime } from '../time.js';
import {
  type Clock,
  cronScheduler,
  dailyAt,
  type ScheduledRun,
  type Scheduler,
  systemClock,
} from './schedule.js';

export const SUMMARY_JOB = 'summary';
export const SUMMARY_TOPIC = 'summary';
/** Summaries have their own sequence, so attendance seq stays gap-free for consumers. */
export const SUMMARY_SEQ_COUNTER = 'summary_seq';
/** After a longer outage only the most recent days are caught up. */
export const MAX_CATCH_UP_DAYS = 7;

/** The payload on `<base>/<terminal_id>/summary`: names and times, never biometric data. */
export interface SummaryPayload {
  event_id: string;
  seq: number;
  terminal_id: string;
  /** The local day summarised. */
  day: string;
  time_zone: string;
  generated_at: string;
  totals: DayTotals;
  people: Omit<ReportRow, 'day'>[];
  software_version: string;
}

export interface SummaryContext {
  terminalId: string;
  timeZone: string;
}

export type SummaryOutcome = 'queued' | 'already_done';

/**
 * Computes one day's summary and queues it in the outbox, in the same transaction as the
 * job_runs row that says it was done: after a crash either both exist or neither does, so a
 * restart neither publishes a day twice nor skips it.
 */
export function queueDailySummary(
  db: Db,
  ctx: SummaryContext,
  day: string,
  now: Date,
): SummaryOutcome {
  return db
    .transaction((): SummaryOutcome => {
      if (hasRun(db, SUMMARY_JOB, day)) return 'already_done';

      const rows = buildReport(db, { from: day, to: day, timeZone: ctx.timeZone, asOf: now });
      const seq = nextValue(db, SUMMARY_SEQ_COUNTER);
      const payload: SummaryPayload = {
        event_id: uuidv7(now.getTime()),
        seq,
        terminal_id: ctx.terminalId,
        day,
        time_zone: ctx.timeZone,
        generated_at: isoWithOffset(now, ctx.timeZone),
        totals: totals(rows),
        people: rows.map(({ day: _, ...row }) => row),
        software_version: softwareVersion,
      };
      assertNoBiometrics(payload);

      enqueue(db, {
        eventId: payload.event_id,
        seq,
        topic: SUMMARY_TOPIC,
        payload: JSON.stringify(payload),
      });
      recordRun(db, SUMMARY_JOB, day, now);
      return 'queued';
    })
    .immediate();
}

/**
 * The latest day whose summary is due by `now`: the last local day on which summary.time has
 * passed, or the day before it when summary.day is previous.
 */
export function latestDueDay(
  now: Date,
  settings: Pick<Config['summary'], 'time' | 'day'>,
  timeZone: string,
): string {
  const today = localDate(now, timeZone);
  const ranToday = zonedTime(today, settings.time, timeZone).getTime() <= now.getTime();
  const runDay = ranToday ? today : addDays(today, -1);
  return settings.day === 'previous' ? addDays(runDay, -1) : runDay;
}

/**
 * The days a start must catch up: those after the last summary up to the latest due one.
 * A terminal that never sent a summary starts with the next one rather than inventing a past.
 */
export function missedDays(lastDone: string | null, latestDue: string): string[] {
  if (!lastDone || lastDone >= latestDue) return [];
  const days: string[] = [];
  for (let day = addDays(lastDone, 1); day <= latestDue; day = addDays(day, 1)) days.push(day);
  return days.slice(-MAX_CATCH_UP_DAYS);
}

export interface JobOptions {
  clock?: Clock;
  scheduler?: Scheduler;
}

type JobRuntime = Pick<Runtime, 'db' | 'logger' | 'bus'> & {
  config: Pick<Config, 'terminal' | 'summary'>;
};

/** The daily summary: at summary.time (local) every day, plus catch-up on start. */
export class SummaryJob implements Module {
  readonly name = 'summary';
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private run: ScheduledRun | undefined;

  constructor(
    private readonly runtime: JobRuntime,
    options: JobOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.scheduler ?? cronScheduler;
    this.log = runtime.logger.child({ module: 'summary' });
  }

  private get ctx(): SummaryContext {
    return {
      terminalId: this.runtime.config.terminal.id,
      timeZone: this.runtime.config.terminal.timezone,
    };
  }

  async start(): Promise<void> {
    const settings = this.runtime.config.summary;
    const { enabled, time } = settings;
    if (!enabled) {
      this.log.debug({}, 'daily summary disabled');
      return;
    }

    const now = this.clock.now();
    const due = latestDueDay(now, settings, this.ctx.timeZone);
    const missed = missedDays(lastRunKey(this.runtime.db, SUMMARY_JOB), due);
    for (const day of missed) this.queue(day, 'catch-up');

    this.run = this.scheduler.schedule(dailyAt(time), this.ctx.timeZone, () => this.onTime());
    this.log.debug({ time, timeZone: this.ctx.timeZone }, 'daily summary scheduled');
  }

  async stop(): Promise<void> {
    this.run?.stop();
    this.run = undefined;
  }

  /** The scheduled run: the day whose summary time it is now. */
  onTime(): void {
    const now = this.clock.now();
    this.queue(latestDueDay(now, this.runtime.config.summary, this.ctx.timeZone), 'scheduled');
  }

  private queue(day: string, reason: 'scheduled' | 'catch-up'): void {
    try {
      const outcome = queueDailySummary(this.runtime.db, this.ctx, day, this.clock.now());
      this.log.info({ day, reason, outcome }, 'daily summary');
      if (outcome === 'queued') this.runtime.bus.emit('outbox');
    } catch (err) {
      this.log.error({ err, day }, 'daily summary failed; the next start catches it up');
    }
  }
}
