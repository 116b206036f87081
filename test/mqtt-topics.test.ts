import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { PresenteError } from '../src/errors.js';
import { backoffMs, clientOptions, redactUrl } from '../src/mqtt/connection.js';
import { discoveryMessages } from '../src/mqtt/homeassistant.js';
import { centralTopics, TOPIC_SPECS, terminalTopics } from '../src/mqtt/topics.js';
import { tempDir } from './helpers.js';

test('the topic map of a terminal and of a central subscriber', () => {
  const topics = terminalTopics('site/presente/', 'door-1');
  assert.equal(topics.status, 'site/presente/door-1/status');
  assert.equal(topics.attendance, 'site/presente/door-1/attendance');
  assert.equal(topics.requests, 'site/presente/door-1/request/+');
  assert.equal(topics.response('status'), 'site/presente/door-1/response/status');
  assert.equal(topics.relative('summary'), 'site/presente/door-1/summary');
  assert.equal(topics.requestName('site/presente/door-1/request/enroll'), 'enroll');
  assert.equal(topics.requestName('site/presente/door-2/request/enroll'), undefined);

  const central = centralTopics('site/presente');
  assert.equal(central.attendance, 'site/presente/+/attendance');
  assert.equal(central.terminalOf('site/presente/door-7/attendance'), 'door-7');
  assert.equal(central.terminalOf('site/presente/door-7/status'), undefined);
  assert.equal(central.terminalOf('site/presente/a/b/attendance'), undefined);
  assert.equal(central.ack('door-7'), 'site/presente/door-7/ack');

  assert.deepEqual(TOPIC_SPECS.status, { qos: 1, retain: true });
  assert.deepEqual(TOPIC_SPECS.attendance, { qos: 1, retain: false });
});

test('reconnect delays double, stay under the cap and are jittered', () => {
  for (let attempt = 0; attempt < 40; attempt++) {
    const ceiling = Math.min(8000, 250 * 2 ** attempt);
    const delay = backoffMs(attempt, 250, 8000);
    assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
  }
  const samples = new Set(Array.from({ length: 20 }, () => backoffMs(5, 250, 8000)));
  assert.ok(samples.size > 1, 'jitter');
});

test('client options: persistent session named after the terminal, offline will, secrets from files', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'password'), 's3cret\n');
  const { config } = loadConfig({
    env: {},
    overrides: {
      terminal: { id: 'door-9' },
      mqtt: {
        url: 'mqtt://broker:1883',
        username: 'door',
        password_file: join(dir, 'password'),
        session_expiry_s: 3600,
      },
    },
  });
  const topics = terminalTopics(config.mqtt.base_topic, config.terminal.id);
  const options = clientOptions(config, topics);
  assert.equal(options.clientId, 'presente-door-9');
  assert.equal(options.clean, false);
  assert.equal(options.protocolVersion, 5);
  assert.equal(options.properties?.sessionExpiryInterval, 3600);
  assert.equal(options.username, 'door');
  assert.equal(options.password, 's3cret');
  assert.equal(options.reconnectPeriod, 0);
  assert.equal(options.will?.topic, 'presente/door-9/status');
  assert.equal(options.will?.retain, true);
  assert.equal(JSON.parse(String(options.will?.payload)).state, 'offline');

  const tls = loadConfig({
    env: {},
    overrides: { mqtt: { url: 'mqtts://broker:8883', ca_file: join(dir, 'missing-ca.pem') } },
  }).config;
  assert.throws(
    () => clientOptions(tls, topics),
    (err: Error) =>
      err instanceof PresenteError && /mqtt\.ca_file: cannot read .*ENOENT/.test(err.message),
  );
  assert.equal(redactUrl('mqtt://door:pw@broker:1883'), 'mqtt://door:***@broker:1883');
});

test('home assistant discovery: one device, availability from status, no payload data', () => {
  const topics = terminalTopics('presente', 'door-1');
  const messages = discoveryMessages('homeassistant', 'door-1', topics);
  assert.ok(messages.length >= 3);
  for (const message of messages) {
    assert.match(
      message.topic,
      /^homeassistant\/(sensor|binary_sensor)\/presente_door_1\/\w+\/config$/,
    );
    const device = message.payload.device as { identifiers: string[] };
    assert.deepEqual(device.identifiers, ['presente_door_1']);
  }
});
