import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Alert } from '../src/events.js';
import { enqueue, outboxCounts } from '../src/store/outbox.js';
import { tempDir } from './helpers.js';
import { Mosquitto, waitFor } from './mosquitto.js';
import {
  attendanceValidator,
  inProcessTerminal,
  Observer,
  startTerminal,
  writeConfig,
} from './mqtt-support.js';

const validate = attendanceValidator();

describe('mqtt delivery', () => {
  test('a broker down at boot is normal: every event recorded meanwhile is delivered, valid, in seq order', async () => {
    const broker = await Mosquitto.create();
    after(() => broker.stop());

    // A central subscriber with a persistent session, registered before the broker goes away,
    // so the broker queues for it whatever arrives while it reconnects.
    await broker.restart();
    const central = await Observer.connect(broker.url, {
      clientId: 'central',
      clean: false,
      properties: { sessionExpiryInterval: 600 },
    });
    await central.subscribe('presente/door-1/attendance');
    await central.subscribe('presente/door-1/summary');
    await central.close();
    await broker.terminate();
    const down = broker;

    const terminal = await inProcessTerminal(tempDir(), down.url);
    after(() => terminal.close());
    await terminal.module.start(new AbortController().signal);
    const recorded = terminal.record(40);
    enqueue(terminal.db, {
      eventId: 'summary-2026-12-03',
      seq: 0,
      topic: 'summary',
      payload: JSON.stringify({ date: '2026-12-03', punches: 40 }),
    });
    assert.equal(terminal.module.publisher?.delivered, 0);
    assert.equal(outboxCounts(terminal.db).pending, 41);

    await down.restart();
    const observer = await Observer.connect(down.url);
    after(() => observer.close());
    await observer.subscribe('presente/door-1/#');
    await waitFor(() => outboxCounts(terminal.db).pending === 0, 'the outbox to drain');

    const events = await waitForAttendance(observer, 40);
    assert.deepEqual(
      events.map((e) => e.event_id),
      recorded.map((e) => e.event_id),
    );
    for (const event of events) assert.deepEqual(validate(event), [], JSON.stringify(event));
    const summary = await observer.waitFor('presente/door-1/summary', () => true, 'the summary');
    assert.deepEqual(summary.json(), { date: '2026-12-03', punches: 40 });
    for (const m of observer.on('presente/door-1/attendance')) {
      assert.equal(m.packet.qos, 1);
      assert.equal(m.packet.retain, false);
    }
  });

  test('presence: retained online, offline after SIGKILL, stopping then offline on a clean stop', async () => {
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const dir = tempDir();
    const configFile = writeConfig(dir, broker.url);
    const observer = await Observer.connect(broker.url);
    after(() => observer.close());
    await observer.subscribe('presente/door-1/status');
    await observer.subscribe('presente/door-1/heartbeat');
    const states = () => observer.on('presente/door-1/status').map((m) => state(m.payload));

    const first = await startTerminal(configFile);
    await waitFor(() => states().at(-1) === 'online', 'online');
    const heartbeat = await observer.waitFor('presente/door-1/heartbeat', () => true, 'heartbeat');
    const expiry = heartbeat.packet.properties?.messageExpiryInterval ?? 0;
    assert.ok(expiry > 0 && expiry <= 6, `heartbeat expiry ${expiry}`);
    const figures = heartbeat.json() as Record<string, unknown>;
    assert.equal(figures.terminal_id, 'door-1');
    assert.equal(typeof figures.uptime_s, 'number');

    // A newcomer sees the retained state.
    const late = await Observer.connect(broker.url);
    await late.subscribe('presente/door-1/status');
    const retained = await late.waitFor('presente/door-1/status', () => true, 'retained status');
    assert.equal(retained.packet.retain, true);
    assert.equal(state(retained.payload), 'online');
    await late.close();

    await first.kill('SIGKILL');
    await waitFor(() => states().at(-1) === 'offline', 'the last will (offline)');

    const second = await startTerminal(configFile);
    await waitFor(() => states().at(-1) === 'online', 'online again');
    const before = states().length;
    await second.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    await waitFor(() => states().length >= before + 2, 'stopping and offline');
    assert.deepEqual(states().slice(before), ['stopping', 'offline']);
  });

  test('online again after the broker is killed and restarted', async () => {
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const terminal = await inProcessTerminal(tempDir(), broker.url);
    after(() => terminal.close());
    await terminal.module.start(new AbortController().signal);
    await waitFor(() => terminal.module.connected, 'the first connection');

    await broker.kill();
    const restartedAt = new Date().toISOString();
    await broker.restart();
    const observer = await Observer.connect(broker.url);
    after(() => observer.close());
    await observer.subscribe('presente/door-1/status');
    await observer.waitFor(
      'presente/door-1/status',
      (m) => state(m.payload) === 'online' && (m.json() as { at: string }).at >= restartedAt,
      'online published after the restart',
    );
  });

  test('backlog: nothing undelivered is dropped, an alert says so, delivered rows are pruned', async () => {
    const broker = await Mosquitto.create();
    after(() => broker.stop());
    const terminal = await inProcessTerminal(tempDir(), broker.url, {
      outbox: { max_rows: 10, warn_ratio: 0.5 },
    });
    after(() => terminal.close());
    const alerts: Alert[] = [];
    terminal.bus.on('alert', (a) => alerts.push(a));
    await terminal.module.start(new AbortController().signal);

    terminal.record(25);
    terminal.module.publisher!.checkBacklog();
    assert.deepEqual(outboxCounts(terminal.db), { total: 25, pending: 25 });
    assert.equal(alerts.at(-1)?.kind, 'outbox_backlog');
    assert.equal(alerts.at(-1)?.severity, 'critical');

    await broker.restart();
    const observer = await Observer.connect(broker.url);
    after(() => observer.close());
    await observer.subscribe('presente/door-1/alert');
    await waitFor(() => outboxCounts(terminal.db).pending === 0, 'the backlog to drain');
    terminal.module.publisher!.checkBacklog();
    assert.deepEqual(outboxCounts(terminal.db), { total: 10, pending: 0 });
    assert.equal(alerts.at(-1)?.severity, 'resolved');

    const published = await observer.waitFor(
      'presente/door-1/alert',
      (m) => (m.json() as { severity: string }).severity === 'resolved',
      'the resolved alert on MQTT',
    );
    assert.equal((published.json() as { kind: string }).kind, 'outbox_backlog');
  });

  test('home assistant discovery is sent on connect and again when home assistant comes online', async () => {
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const observer = await Observer.connect(broker.url);
    after(() => observer.close());
    await observer.subscribe('homeassistant/+/+/+/config');
    const terminal = await inProcessTerminal(tempDir(), broker.url, {
      mqtt: { ha_discovery: true },
    });
    after(() => terminal.close());
    await terminal.module.start(new AbortController().signal);

    const connectivity = 'homeassistant/binary_sensor/presente_door_1/connectivity/config';
    const first = await observer.waitFor(connectivity, () => true, 'discovery');
    const config = first.json() as Record<string, unknown>;
    assert.equal(config.state_topic, 'presente/door-1/status');
    assert.equal(config.device_class, 'connectivity');
    assert.ok(observer.on('homeassistant/sensor/presente_door_1/last_punch/config').length > 0);

    await observer.client.publishAsync('homeassistant/status', 'online');
    await waitFor(() => observer.on(connectivity).length >= 2, 'discovery sent again');
  });
  test('MQTT 3.1.1: presence and delivery work without MQTT 5 features', async () => {
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const observer = await Observer.connect(broker.url, { protocolVersion: 4 });
    after(() => observer.close());
    await observer.subscribe('presente/door-1/#');
    const terminal = await inProcessTerminal(tempDir(), broker.url, {
      mqtt: { protocol_version: 4 },
    });
    after(() => terminal.close());
    await terminal.module.start(new AbortController().signal);
    terminal.record(5);
    await waitFor(() => outboxCounts(terminal.db).pending === 0, 'delivery over MQTT 3.1.1');
    await observer.waitFor('presente/door-1/heartbeat', () => true, 'a heartbeat');
    const online = observer.on('presente/door-1/status').map((m) => state(m.payload));
    assert.deepEqual(online, ['online']);
    assert.equal(observer.on('presente/door-1/attendance').length, 5);
  });

  test('no broker URL: an embedded broker on localhost when asked for, idle otherwise', async () => {
    const idle = await inProcessTerminal(tempDir(), '');
    after(() => idle.close());
    await idle.module.start(new AbortController().signal);
    idle.record(2);
    assert.equal(idle.module.brokerUrl, undefined);
    assert.equal(outboxCounts(idle.db).pending, 2);

    const terminal = await inProcessTerminal(tempDir(), '', {
      mqtt: { embedded_broker: true, embedded_port: 0 },
    });
    after(() => terminal.close());
    await terminal.module.start(new AbortController().signal);
    const url = terminal.module.brokerUrl;
    assert.match(url ?? '', /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const observer = await Observer.connect(url!, { protocolVersion: 4 });
    after(() => observer.close());
    await observer.subscribe('presente/door-1/attendance');
    await waitFor(() => terminal.module.connected, 'the terminal on the embedded broker');
    terminal.record(3);
    await waitFor(() => outboxCounts(terminal.db).pending === 0, 'delivery to the embedded broker');
    await waitFor(() => observer.on('presente/door-1/attendance').length === 3, 'the events');
  });
});

function state(payload: Buffer): string {
  return (JSON.parse(payload.toString('utf8')) as { state: string }).state;
}

async function waitForAttendance(observer: Observer, count: number) {
  await waitFor(
    () => observer.on('presente/door-1/attendance').length >= count,
    `${count} attendance events`,
  );
  const seen = new Map<string, { event_id: string; seq: number }>();
  for (const m of observer.on('presente/door-1/attendance')) {
    const event = m.json() as { event_id: string; seq: number };
    seen.set(event.event_id, event);
  }
  return [...seen.values()].sort((a, b) => a.seq - b.seq);
}
