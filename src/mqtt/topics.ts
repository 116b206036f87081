import type { AttendanceEvent } from '../attendance/event.js';
import type { Alert } from '../events.js';

/**
 * The terminal's MQTT topics and the payload each one carries: the one map used by the code,
 * the tests and docs/MQTT.md. Every topic lives under `<base_topic>/<terminal_id>`.
 */

export type Qos = 0 | 1;

export interface TopicSpec {
  qos: Qos;
  retain: boolean;
}

/** QoS and retain flag of each terminal topic. */
export const TOPIC_SPECS = {
  status: { qos: 1, retain: true },
  attendance: { qos: 1, retain: false },
  heartbeat: { qos: 1, retain: true },
  alert: { qos: 1, retain: false },
  summary: { qos: 1, retain: false },
  response: { qos: 1, retain: false },
  ack: { qos: 1, retain: false },
} as const satisfies Record<string, TopicSpec>;

export const REQUEST_NAMES = [
  'status',
  'user_upsert',
  'user_remove',
  'enroll',
  'sync_roster',
  'reload',
] as const;

export type RequestName = (typeof REQUEST_NAMES)[number];

export function isRequestName(name: string): name is RequestName {
  return (REQUEST_NAMES as readonly string[]).includes(name);
}

export type PresenceState = 'online' | 'offline' | 'stopping';

/** `status`: retained; the last will says offline. */
export interface StatusPayload {
  state: PresenceState;
  terminal_id: string;
  software_version: string;
  /** ISO 8601 UTC time the state was published (the will carries the time it was set). */
  at: string;
}

/** `heartbeat`: whatever health figures exist, snake_case keys with their unit. */
export type HeartbeatPayload = {
  terminal_id: string;
  at: string;
} & Record<string, number | string | boolean | null>;

/** `alert`: one alert of the running terminal. */
export interface AlertPayload {
  terminal_id: string;
  kind: Alert['kind'];
  severity: Alert['severity'];
  message: string;
  details: NonNullable<Alert['details']>;
  at: string;
}

/** `ack`: a central consumer confirms it has stored these events. */
export interface AckPayload {
  event_ids: string[];
}

/** `response/<name>`: the answer to one request, with its id echoed. */
export type ResponsePayload =
  | { id: string | null; ok: true; result: unknown }
  | { id: string | null; ok: false; error: { code: ResponseErrorCode; message: string } };

export type ResponseErrorCode =
  | 'bad_json'
  | 'invalid'
  | 'too_large'
  | 'unknown_request'
  | 'not_found'
  | 'unavailable'
  | 'failed';

/** Payload type of each topic, for code and tests that want them typed. */
export interface TopicPayloads {
  status: StatusPayload;
  attendance: AttendanceEvent;
  heartbeat: HeartbeatPayload;
  alert: AlertPayload;
  ack: AckPayload;
  response: ResponsePayload;
}

export interface Topics {
  /** `<base_topic>/<terminal_id>` */
  root: string;
  status: string;
  attendance: string;
  heartbeat: string;
  alert: string;
  ack: string;
  /** `request/+`, the subscription that receives every request. */
  requests: string;
  request(name: string): string;
  response(name: string): string;
  /** A topic stored relative to the root in the outbox (e.g. `attendance`, `summary`). */
  relative(name: string): string;
  /** The request name of a topic under `request/`, or undefined. */
  requestName(topic: string): string | undefined;
}

/** Topic names of one terminal. */
export function terminalTopics(baseTopic: string, terminalId: string): Topics {
  const root = `${baseTopic.replace(/\/+$/, '')}/${terminalId}`;
  const requestPrefix = `${root}/request/`;
  return {
    root,
    status: `${root}/status`,
    attendance: `${root}/attendance`,
    heartbeat: `${root}/heartbeat`,
    alert: `${root}/alert`,
    ack: `${root}/ack`,
    requests: `${root}/request/+`,
    request: (name) => `${root}/request/${name}`,
    response: (name) => `${root}/response/${name}`,
    relative: (name) => `${root}/${name}`,
    requestName: (topic) =>
      topic.startsWith(requestPrefix) ? topic.slice(requestPrefix.length) : undefined,
  };
}

/** Topics a central subscriber uses for every terminal under a base topic. */
export function centralTopics(baseTopic: string) {
  const base = baseTopic.replace(/\/+$/, '');
  return {
    /** `<base>/+/attendance` */
    attendance: `${base}/+/attendance`,
    ack: (terminalId: string) => `${base}/${terminalId}/ack`,
    /** The terminal id of a `<base>/<id>/attendance` topic. */
    terminalOf(topic: string): string | undefined {
      const rest = topic.startsWith(`${base}/`) ? topic.slice(base.length + 1) : '';
      const [id, leaf, extra] = rest.split('/');
      return id && leaf === 'attendance' && extra === undefined ? id : undefined;
    },
  };
}

/** Home Assistant's birth topic; discovery is sent again when it says online. */
export function homeAssistantStatusTopic(prefix: string): string {
  return `${prefix}/status`;
}
