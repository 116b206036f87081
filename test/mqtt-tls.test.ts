import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { clientOptions } from '../src/mqtt/connection.js';
import { terminalTopics } from '../src/mqtt/topics.js';
import { outboxCounts } from '../src/store/outbox.js';
import { makeCertificates } from './certs.js';
import { tempDir } from './helpers.js';
import { Mosquitto, waitFor } from './mosquitto.js';
import { inProcessTerminal, Observer } from './mqtt-support.js';

test('mqtts with a client certificate: presence and delivery', async () => {
  const dir = tempDir();
  const certs = makeCertificates(dir, ['door-1']);
  const broker = await Mosquitto.start({
    tls: { caFile: certs.ca, certFile: certs.serverCert, keyFile: certs.serverKey },
  });
  after(() => broker.stop());
  assert.match(broker.url, /^mqtts:/);
  const client = certs.clients['door-1']!;

  const terminal = await inProcessTerminal(dir, broker.url, {
    mqtt: { ca_file: certs.ca, cert_file: client.cert, key_file: client.key },
  });
  after(() => terminal.close());
  const options = clientOptions(terminal.config, terminalTopics('presente', 'door-1'));
  assert.equal(options.rejectUnauthorized, true);

  const observer = await Observer.connect(broker.url, {
    ca: readFileSync(certs.ca),
    cert: readFileSync(client.cert),
    key: readFileSync(client.key),
  });
  after(() => observer.close());
  await observer.subscribe('presente/door-1/#');

  await terminal.module.start(new AbortController().signal);
  await observer.waitFor(
    'presente/door-1/status',
    (m) => (m.json() as { state: string }).state === 'online',
    'online over TLS',
  );
  terminal.record(3);
  await waitFor(() => outboxCounts(terminal.db).pending === 0, 'delivery over TLS');
  await waitFor(() => observer.on('presente/door-1/attendance').length === 3, 'the events');
});

test('mqtts without a client certificate is refused by the broker', async () => {
  const dir = tempDir();
  const certs = makeCertificates(dir, ['door-1']);
  const broker = await Mosquitto.start({
    tls: { caFile: certs.ca, certFile: certs.serverCert, keyFile: certs.serverKey },
  });
  after(() => broker.stop());
  await assert.rejects(
    Observer.connect(broker.url, { ca: readFileSync(certs.ca), reconnectPeriod: 0 }),
  );
});
