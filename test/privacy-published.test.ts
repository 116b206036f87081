import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { buildDaemon } from '../src/app.js';
import { queueDailySummary } from '../src/jobs/summary.js';
import { createLogger } from '../src/log.js';
import { findBiometrics } from '../src/privacy/scan.js';
import { localDate } from '../src/time.js';
import { enrolledDatabase, testConfig } from './attendance-enroll.js';
import { face, tempDir } from './helpers.js';
import { Mosquitto, waitFor } from './mosquitto.js';

/**
 * The whole terminal, as `presente run` builds it, on the bundled clip with the six people
 * enrolled from real photos, publishing to a real Mosquitto: every payload it sends, and every
 * line it logs, is scanned for descriptors and images.
 */
describe('nothing biometric leaves the terminal', () => {
  const brokers: Mosquitto[] = [];
  after(async () => {
    for (const broker of brokers) await broker.stop();
  });

  it('publishes attendance, a summary, status and heartbeats without biometric data', async () => {
    const broker = await Mosquitto.start();
    brokers.push(broker);
    const zone = 'Europe/Madrid';
    const config = testConfig(tempDir(), {
      'terminal.id': 'door-7',
      'terminal.timezone': zone,
      'mqtt.url': broker.url,
      'heartbeat.interval_s': 1,
      'http.enabled': false,
      'camera.source': 'file',
      'camera.path': face('video/hamilton_clip_10s.mp4'),
      // At the camera's pace, round and round, as at a door; memory limits for a test process
      // that also holds the enrollment engine.
      'camera.realtime': true,
      'camera.loop': true,
      'memory.soft_limit_mb': 4000,
      'memory.hard_limit_mb': 8000,
      'attendance.record_sightings': true,
      'seeds.on_start': false,
      'log.level': 'debug',
    });
    const { db } = await enrolledDatabase(config);

    const published: { topic: string; payload: Buffer }[] = [];
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'central' });
    subscriber.on('message', (topic, payload) => published.push({ topic, payload }));
    await subscriber.subscribeAsync('presente/#', { qos: 1 });

    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger({ level: 'debug', format: 'json' }, sink);
    const { daemon, runtime } = buildDaemon({ config, logger, db });
    const topics = () => new Set(published.map((m) => m.topic.split('/').slice(2).join('/')));
    try {
      await daemon.start();
      await waitFor(() => topics().has('attendance'), 'an attendance event', 90_000).catch(
        (err: unknown) => {
          throw new Error(
            `${(err as Error).message}; last log lines:\n${logLines.slice(-10).join('\n')}`,
          );
        },
      );

      const now = new Date();
      queueDailySummary(db, { terminalId: 'door-7', timeZone: zone }, localDate(now, zone), now);
      runtime.bus.emit('outbox');
      await waitFor(
        () => topics().has('summary') && topics().has('heartbeat') && topics().has('status'),
        'a summary, a heartbeat and the status',
        30_000,
      );
    } finally {
      await daemon.stop('test over');
      await subscriber.endAsync();
    }

    const attendance = published.find((m) => m.topic === 'presente/door-7/attendance');
    assert.equal(JSON.parse(String(attendance?.payload)).user.code, 'lin_manuel_miranda');
    const summary = published.find((m) => m.topic === 'presente/door-7/summary');
    assert.ok(JSON.parse(String(summary?.payload)).people.length >= 1);

    for (const { topic, payload } of published) {
      assert.deepEqual(findBiometrics(payload), [], `${topic}: ${payload.subarray(0, 200)}`);
    }
    assert.ok(logLines.length > 10);
    for (const line of logLines) assert.deepEqual(findBiometrics(line), [], line);
  });
});
