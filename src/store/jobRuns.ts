import type { Db } from './db.js';

/** Whether a job already ran for this key (a day, for the daily summary). */
export function hasRun(db: Db, job: string, runKey: string): boolean {
  return (
    db.prepare('SELECT 1 FROM job_runs WHERE job = ? AND run_key = ?').get(job, runKey) !==
    undefined
  );
}

/** Records a run; call in the same transaction as the work, so both happen or neither. */
export function recordRun(db: Db, job: string, runKey: string, ranAt: Date): void {
  db.prepare('INSERT INTO job_runs (job, run_key, ran_at) VALUES (?, ?, ?)').run(
    job,
    runKey,
    ranAt.toISOString(),
  );
}

/** Records a run, or moves the time of an earlier run with the same key. */
export function touchRun(db: Db, job: string, runKey: string, ranAt: Date): void {
  db.prepare(
    `INSERT INTO job_runs (job, run_key, ran_at) VALUES (?, ?, ?)
     ON CONFLICT (job, run_key) DO UPDATE SET ran_at = excluded.ran_at`,
  ).run(job, runKey, ranAt.toISOString());
}

/** The greatest run key of a job (keys are dates, so the latest day), if it ever ran. */
export function lastRunKey(db: Db, job: string): string | null {
  const row = db.prepare('SELECT max(run_key) AS k FROM job_runs WHERE job = ?').get(job) as {
    k: string | null;
  };
  return row.k;
}

export interface JobRun {
  job: string;
  runKey: string;
  ranAt: string;
}

export function jobRuns(db: Db, job: string): JobRun[] {
  return db
    .prepare(
      'SELECT job, run_key AS runKey, ran_at AS ranAt FROM job_runs WHERE job = ? ORDER BY run_key',
    )
    .all(job) as JobRun[];
}
