import type { Db } from '../store/db.js';
import { reportPunches, scheduledUsers } from '../store/reports.js';
import { listShifts } from '../store/shifts.js';
import { computeReport, punchWindow, type ReportOptions, type ReportRow } from './daily.js';

export interface ReportRequest extends ReportOptions {
  /** Only this user's rows. */
  user?: string;
}

/** Reads what a report over these days needs from the store and computes its rows. */
export function buildReport(db: Db, request: ReportRequest): ReportRow[] {
  const { fromIso, toIso } = punchWindow(request);
  return db
    .transaction(() =>
      computeReport(
        {
          punches: reportPunches(db, fromIso, toIso, request.user),
          shifts: new Map(listShifts(db).map((s) => [s.id, s])),
          scheduled: scheduledUsers(db, request.user),
        },
        request,
      ),
    )
    .deferred();
}
