import cron from 'node-cron';
import { ConfigError } from '../errors.js';

/** The time the jobs see: the system clock in the daemon, a hand-moved one in tests. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ScheduledRun {
  stop(): void;
}

/** Runs a function on a cron schedule in a time zone. */
export interface Scheduler {
  schedule(expression: string, timeZone: string, run: () => void): ScheduledRun;
}

/** Checks a cron expression; an invalid one is a configuration error naming the key. */
export function checkCron(key: string, expression: string): void {
  if (!cron.validate(expression)) {
    throw new ConfigError([`${key}: '${expression}' is not a cron schedule (e.g. '17 3 * * *')`]);
  }
}

/** node-cron: its timer is unref'd so a scheduled job never keeps a stopping process alive. */
export const cronScheduler: Scheduler = {
  schedule(expression, timeZone, run) {
    const task = cron.schedule(expression, () => run(), {
      timezone: timeZone,
      noOverlap: true,
      unref: true,
    });
    return {
      stop: () => {
        void task.destroy();
      },
    };
  },
};

/** 'HH:MM' to the cron expression that fires at that local time every day. */
export function dailyAt(hhmm: string): string {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  return `${minutes} ${hours} * * *`;
}
