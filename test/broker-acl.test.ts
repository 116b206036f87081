import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { makeCertificates } from './certs.js';
import { root, tempDir } from './helpers.js';
import { freePort, waitFor } from './mosquitto.js';

/** The fenced block of a language in docs/BROKER.md: the files the operator copies. */
function documented(language: string): string {
  const text = readFileSync(join(root, 'docs', 'BROKER.md'), 'utf8');
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(match, `docs/BROKER.md has no ${language} block`);
  return match[1]!;
}

describe('the documented Mosquitto set-up', () => {
  const dir = tempDir();
  const certs = makeCertificates(dir, ['door-1', 'door-2', 'central']);
  let broker: ChildProcess | undefined;
  const clients: MqttClient[] = [];

  after(async () => {
    for (const client of clients) await client.endAsync(true);
    broker?.kill('SIGTERM');
  });

  async function start(): Promise<number> {
    const port = await freePort();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'presente.acl'), documented('acl'));
    const conf = documented('conf')
      .replace('listener 8883', `listener ${port} 127.0.0.1`)
      .replace('/etc/mosquitto/certs/ca.crt', certs.ca)
      .replace('/etc/mosquitto/certs/broker.crt', certs.serverCert)
      .replace('/etc/mosquitto/certs/broker.key', certs.serverKey)
      .replace('/etc/mosquitto/presente.acl', join(dir, 'presente.acl'))
      .replace('/var/lib/mosquitto/', `${join(dir, 'data')}/`);
    const file = join(dir, 'mosquitto.conf');
    writeFileSync(file, `${conf}\nuser ${userInfo().username}\nlog_dest stderr\n`);
    broker = spawn('mosquitto', ['-c', file], { stdio: 'ignore' });
    return port;
  }

  async function connect(port: number, name: string): Promise<MqttClient> {
    const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: `${name}-acl-test`,
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.clients[name]!.cert),
      key: readFileSync(certs.clients[name]!.key),
      reconnectPeriod: 200,
      connectTimeout: 5000,
    });
    clients.push(client);
    await waitFor(() => client.connected, `${name} connected`, 15_000);
    return client;
  }

  it('lets a terminal publish under its own id only', async () => {
    const port = await start();
    const central = await connect(port, 'central');
    const received: string[] = [];
    central.on('message', (topic) => received.push(topic));
    await central.subscribeAsync('presente/+/attendance', { qos: 1 });

    const door1 = await connect(port, 'door-1');
    await door1.publishAsync('presente/door-1/attendance', '{"seq":1}', { qos: 1 });
    await assert.rejects(
      door1.publishAsync('presente/door-2/attendance', '{"seq":1}', { qos: 1 }),
      /135|not authorized/i,
    );
    await waitFor(() => received.includes('presente/door-1/attendance'), 'own event');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(received, ['presente/door-1/attendance']);
  });

  it("keeps a terminal out of another terminal's requests and acknowledgements", async () => {
    const door1 = clients.find((c) => c.options.clientId === 'door-1-acl-test')!;
    const central = clients.find((c) => c.options.clientId === 'central-acl-test')!;
    const heard: string[] = [];
    door1.on('message', (topic) => heard.push(topic));
    // Mosquitto grants the subscription and filters each message by the ACL on delivery.
    await door1.subscribeAsync(['presente/door-2/request/#', 'presente/door-1/request/#'], {
      qos: 1,
    });
    await central.publishAsync('presente/door-2/request/status', '{"id":"a"}', { qos: 1 });
    await central.publishAsync('presente/door-1/request/status', '{"id":"b"}', { qos: 1 });
    await waitFor(() => heard.includes('presente/door-1/request/status'), 'own request');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(heard, ['presente/door-1/request/status']);

    await assert.rejects(
      door1.publishAsync('presente/door-2/ack', '{"event_ids":[]}', { qos: 1 }),
      /135|not authorized/i,
    );
  });
});
