import { table } from '../commands/table.js';
import type { ReportRow } from './daily.js';

export const REPORT_COLUMNS = [
  'day',
  'user',
  'name',
  'shift',
  'first_check_in',
  'last_check_out',
  'worked_min',
  'hours_worked',
  'late_min',
  'early_leave_min',
  'missing_punches',
  'state',
] as const satisfies readonly (keyof ReportRow)[];

/**
 * One CSV field (RFC 4180). A text starting with = + - @ or a tab is prefixed with a quote
 * so a spreadsheet shows a name like "=HYPERLINK(...)" instead of running it.
 */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: ReportRow[]): string {
  const lines = [REPORT_COLUMNS.join(',')];
  for (const row of rows) lines.push(REPORT_COLUMNS.map((c) => csvField(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Local wall-clock time of an ISO time with offset, with the day when it is another one. */
function clock(iso: string | null, day: string): string | null {
  if (!iso) return null;
  const time = iso.slice(11, 16);
  return iso.startsWith(day) ? time : `${iso.slice(5, 10)} ${time}`;
}

function duration(minutes: number): string {
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;
}

export function toTable(rows: ReportRow[]): string {
  if (rows.length === 0) return 'no attendance in this period';
  return table(
    ['day', 'user', 'shift', 'in', 'out', 'worked', 'late', 'early', 'missing', 'state'],
    rows.map((r) => [
      r.day,
      r.user,
      r.shift,
      clock(r.first_check_in, r.day),
      clock(r.last_check_out, r.day),
      duration(r.worked_min),
      r.late_min || null,
      r.early_leave_min || null,
      r.missing_punches || null,
      r.state,
    ]),
  );
}
