/**
 * The attendance event: the row as central subscribers see it, published on
 * `<base>/<terminal_id>/attendance` and printed by `presente replay --json`.
 * Its JSON Schema is docs/attendance-event.schema.json; change both together.
 */
export type PunchKind = 'check_in' | 'check_out';
export type PunchStatus = 'on_time' | 'late' | 'early_leave' | 'overtime' | 'outside_shift';

export interface AttendanceEvent {
  event_id: string;
  seq: number;
  terminal_id: string;
  user: { code: string; name: string };
  kind: PunchKind;
  status: PunchStatus;
  /** ISO 8601 local time with offset. */
  occurred_at: string;
  /** Local date of the shift day the punch belongs to (an overnight shift's start date). */
  shift_day: string | null;
  shift: string | null;
  /** Descriptor distance of the decision (lower is closer). */
  distance: number;
  camera: string;
  model_version: string;
  software_version: string;
  clock_synced: boolean;
}
