import { softwareVersion } from '../paths.js';
import type { Topics } from './topics.js';

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/** Heartbeat figures offered as diagnostic sensors: key, name, unit. */
const HEARTBEAT_SENSORS: [key: string, name: string, unit: string | null][] = [
  ['uptime_s', 'Uptime', 's'],
  ['rss_mb', 'Memory (RSS)', 'MB'],
  ['outbox_pending', 'Events waiting', null],
];

/**
 * Home Assistant MQTT discovery for one terminal: a sensor for the last check-in, a
 * connectivity sensor fed by `status`, and diagnostic sensors from the heartbeat. All share one
 * device and use `status` for availability. Sent retained; sent again when Home Assistant
 * announces itself online.
 */
export function discoveryMessages(prefix: string, terminalId: string, topics: Topics) {
  const nodeId = `presente_${terminalId.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const device = {
    identifiers: [nodeId],
    name: `presente ${terminalId}`,
    manufacturer: 'presente',
    model: 'attendance terminal',
    sw_version: softwareVersion,
  };
  const availability = {
    availability_topic: topics.status,
    availability_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const messages: DiscoveryMessage[] = [
    {
      topic: `${prefix}/sensor/${nodeId}/last_punch/config`,
      payload: {
        name: 'Last punch',
        unique_id: `${nodeId}_last_punch`,
        state_topic: topics.attendance,
        value_template: '{{ value_json.user.name }}',
        json_attributes_topic: topics.attendance,
        json_attributes_template:
          '{{ {"kind": value_json.kind, "status": value_json.status,' +
          ' "occurred_at": value_json.occurred_at, "user_code": value_json.user.code} | tojson }}',
        icon: 'mdi:account-clock',
        device,
        ...availability,
      },
    },
    {
      topic: `${prefix}/binary_sensor/${nodeId}/connectivity/config`,
      payload: {
        name: 'Connectivity',
        unique_id: `${nodeId}_connectivity`,
        device_class: 'connectivity',
        state_topic: topics.status,
        value_template: '{{ value_json.state }}',
        payload_on: 'online',
        payload_off: 'offline',
        entity_category: 'diagnostic',
        device,
      },
    },
    ...HEARTBEAT_SENSORS.map(([key, name, unit]) => ({
      topic: `${prefix}/sensor/${nodeId}/${key}/config`,
      payload: {
        name,
        unique_id: `${nodeId}_${key}`,
        state_topic: topics.heartbeat,
        value_template: `{{ value_json.${key} }}`,
        ...(unit ? { unit_of_measurement: unit } : {}),
        state_class: 'measurement',
        entity_category: 'diagnostic',
        device,
        ...availability,
      },
    })),
  ];
  return messages;
}
