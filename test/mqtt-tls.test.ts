import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { clientOptions } from '../src/mqtt/connection.js';
import { terminalTopics } from '../src/mqtt/topics.js';
import { outboxCounts } from '../src/store/outbox.js';
import { tempDir } from './helpers.js';
import { Mosquitto, waitFor } from './mosquitto.js';
import { inProcessTerminal, Observer } from './mqtt-support.js';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(dir: string) {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=presente-test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  const sign = (name: string, cn: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
  };
  sign('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  sign('client', 'door-1', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
  };
}

test('mqtts with a client certificate: presence and delivery', async () => {
  const dir = tempDir();
  const certs = makeCertificates(dir);
  const broker = await Mosquitto.start({
    tls: { caFile: certs.ca, certFile: certs.serverCert, keyFile: certs.serverKey },
  });
  after(() => broker.stop());
  assert.match(broker.url, /^mqtts:/);

  const terminal = await inProcessTerminal(dir, broker.url, {
    mqtt: { ca_file: certs.ca, cert_file: certs.clientCert, key_file: certs.clientKey },
  });
  after(() => terminal.close());
  const options = clientOptions(terminal.config, terminalTopics('presente', 'door-1'));
  assert.equal(options.rejectUnauthorized, true);

  const observer = await Observer.connect(broker.url, {
    ca: readFileSync(certs.ca),
    cert: readFileSync(certs.clientCert),
    key: readFileSync(certs.clientKey),
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
  const certs = makeCertificates(dir);
  const broker = await Mosquitto.start({
    tls: { caFile: certs.ca, certFile: certs.serverCert, keyFile: certs.serverKey },
  });
  after(() => broker.stop());
  await assert.rejects(
    Observer.connect(broker.url, { ca: readFileSync(certs.ca), reconnectPeriod: 0 }),
  );
});
