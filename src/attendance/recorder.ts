import { uuidv7 } from '../ids.js';
import { softwareVersion } from '../paths.js';
import { insertAttendance } from '../store/attendance.js';
import { nextValue } from '../store/counters.js';
import type { Db } from '../store/db.js';
import { enqueue } from '../store/outbox.js';
import { isoWithOffset, utcOffsetMin } from '../time.js';
import type { AttendanceEvent, PunchKind, PunchStatus } from './event.js';

export interface Punch {
  userId: number;
  userCode: string;
  userName: string;
  kind: PunchKind;
  status: PunchStatus;
  occurredAt: Date;
  shiftId: number | null;
  shiftName: string | null;
  shiftDay: string | null;
  distance: number;
  camera: string;
}

export interface RecorderContext {
  terminalId: string;
  timeZone: string;
  modelVersion: string;
  clockSynced: () => boolean;
}

export const ATTENDANCE_TOPIC = 'attendance';
export const SEQ_COUNTER = 'attendance_seq';

/**
 * Writes the attendance row and its outbox event in one transaction: either both are on disk
 * or neither is. The seq comes from a counter in the same database, so it only grows, across
 * restarts, and never repeats even after old rows are deleted by retention.
 */
export function recordPunch(db: Db, ctx: RecorderContext, punch: Punch): AttendanceEvent {
  return db
    .transaction((): AttendanceEvent => {
      const seq = nextValue(db, SEQ_COUNTER);
      const eventId = uuidv7(punch.occurredAt.getTime());
      const event: AttendanceEvent = {
        event_id: eventId,
        seq,
        terminal_id: ctx.terminalId,
        user: { code: punch.userCode, name: punch.userName },
        kind: punch.kind,
        status: punch.status,
        occurred_at: isoWithOffset(punch.occurredAt, ctx.timeZone),
        shift_day: punch.shiftDay,
        shift: punch.shiftName,
        distance: Math.round(punch.distance * 10_000) / 10_000,
        camera: punch.camera,
        model_version: ctx.modelVersion,
        software_version: softwareVersion,
        clock_synced: ctx.clockSynced(),
      };
      insertAttendance(db, {
        id: eventId,
        seq,
        userId: punch.userId,
        kind: punch.kind,
        occurredAt: punch.occurredAt.toISOString(),
        utcOffsetMin: utcOffsetMin(punch.occurredAt, ctx.timeZone),
        shiftId: punch.shiftId,
        shiftDay: punch.shiftDay,
        status: punch.status,
        distance: punch.distance,
        camera: punch.camera,
      });
      enqueue(db, { eventId, seq, topic: ATTENDANCE_TOPIC, payload: JSON.stringify(event) });
      return event;
    })
    .immediate();
}
