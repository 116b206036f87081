import { EventEmitter } from 'node:events';
import type { AttendanceEvent } from './attendance/event.js';

export type AlertKind =
  | 'camera_down'
  | 'memory_pressure'
  | 'disk_low'
  | 'clock_unsynced'
  | 'outbox_backlog'
  | 'database_error';

export interface Alert {
  kind: AlertKind;
  /** `warning` while degraded, `critical` when the terminal cannot do its job, `resolved` after. */
  severity: 'warning' | 'critical' | 'resolved';
  message: string;
  details?: Record<string, number | string | boolean | null>;
}

export type CameraState =
  | 'starting'
  | 'streaming'
  | 'stalled'
  | 'restarting'
  | 'failed'
  | 'stopped';

/** Events modules send each other inside one daemon. */
export interface DaemonEvents {
  /** A punch was committed (row and outbox event). */
  attendance: [AttendanceEvent];
  alert: [Alert];
  camera: [CameraState];
  /** The frame loop handled a frame: feeds the systemd watchdog. */
  progress: [];
  /**
   * The camera supervisor scheduled a restart of a failing source. The loop is alive and
   * working on the fault, so this feeds the watchdog too: a camera that is down must not get
   * the daemon killed, only a loop that hangs.
   */
  camera_retry: [];
  /** The outbox has new rows to deliver. */
  outbox: [];
}

export class DaemonBus extends EventEmitter<DaemonEvents> {}
