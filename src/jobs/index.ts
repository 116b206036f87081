import type { Module, Runtime } from '../daemon.js';
import { RetentionJob } from './retention.js';
import { type JobOptions, SummaryJob } from './summary.js';

/** The scheduled jobs, as daemon modules: the daily summary, then retention. */
export function jobModules(runtime: Runtime, options: JobOptions = {}): Module[] {
  return [new SummaryJob(runtime, options), new RetentionJob(runtime, options)];
}
