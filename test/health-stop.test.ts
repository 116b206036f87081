import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { ExitCode } from '../src/errors.js';
import { countAttendance } from '../src/store/attendance.js';
import { openDatabase } from '../src/store/db.js';
import { outboxCounts } from '../src/store/outbox.js';
import { cleanEnv, cliEntry, face, root, runCli, tempDir } from './helpers.js';
import { freePort, Mosquitto } from './mosquitto.js';

const require = createRequire(import.meta.url);

/** A real unix datagram socket standing in for systemd's NOTIFY_SOCKET. */
function notifySocket(path: string, onMessage: (text: string) => void): void {
  const unixDgram = require('unix-dgram') as {
    createSocket(
      type: 'unix_dgram',
      listener: (msg: Buffer) => void,
    ): {
      bind(path: string): void;
      close(): void;
    };
  };
  const socket = unixDgram.createSocket('unix_dgram', (msg) => onMessage(msg.toString()));
  socket.bind(path);
  after(() => socket.close());
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** `presente run` in a child process, as systemd or Docker would start it. */
function startDaemon(env: Record<string, string>): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'run'], {
    cwd: root,
    env: cleanEnv({ PRESENTE_LOG_FORMAT: 'json', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stdout += d;
  });
  // A hung daemon must not hang the test run.
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const exit = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout });
    });
  });
  return { child, exit };
}

describe('graceful stop of presente run', () => {
  it('finishes the analysis in flight on SIGTERM: the punch is recorded, exit 0', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const stills = join(dir, 'stills');
    mkdirSync(stills);
    copyFileSync(face('scenes/obama_alone.jpg'), join(stills, 'obama.jpg'));
    const base = { PRESENTE_DATA_DIR: dataDir };
    const added = await runCli(['users', 'add', 'obama', '--name', 'Barack Obama'], base);
    assert.equal(added.code, 0, added.stderr);
    const enrolled = await runCli(
      ['enroll', '--user', 'obama', face('people/barack_obama/1.jpg')],
      base,
    );
    assert.equal(enrolled.code, 0, enrolled.stderr);

    // A broker and a central subscriber watching presence.
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const client = await mqtt.connectAsync(broker.url);
    after(() => client.endAsync());
    const states: string[] = [];
    client.on('message', (_topic, payload) => {
      if (payload.length > 0)
        states.push((JSON.parse(payload.toString()) as { state: string }).state);
    });
    await client.subscribeAsync('presente/door-1/status', { qos: 1 });

    const messages: string[] = [];
    let daemon: ChildProcess | undefined;
    notifySocket(join(dir, 'notify.sock'), (text) => {
      messages.push(text);
      // The first ping follows the first frame handed to the model: stop while it is analysed.
      if (text === 'WATCHDOG=1' && messages.filter((m) => m === 'WATCHDOG=1').length === 1) {
        daemon?.kill('SIGTERM');
      }
    });
    const started = startDaemon({
      ...base,
      PRESENTE_TERMINAL_ID: 'door-1',
      PRESENTE_MQTT_URL: broker.url,
      PRESENTE_CAMERA_SOURCE: 'images',
      PRESENTE_CAMERA_PATH: stills,
      PRESENTE_CAMERA_LOOP: 'true',
      PRESENTE_CAMERA_FPS: '2',
      PRESENTE_CAMERA_MOTION_GATE: 'false',
      PRESENTE_VISION_MIN_FRAMES: '1',
      PRESENTE_HTTP_PORT: String(await freePort()),
      NOTIFY_SOCKET: join(dir, 'notify.sock'),
      WATCHDOG_USEC: '60000000',
    });
    daemon = started.child;
    const exit = await started.exit;

    assert.equal(exit.code, ExitCode.ok, exit.stdout.slice(-2000));
    assert.equal(messages[0], 'STATUS=waiting for the camera');
    assert.match(messages[1]!, /^READY=1\nSTATUS=camera streaming [\d.]+ fps, rss \d+ MB, /);
    assert.equal(messages[2], 'WATCHDOG=1');
    assert.ok(messages.includes('STOPPING=1\nSTATUS=stopping'), messages.join(' | '));
    // Presence: online while running, then an explicit stopping and offline.
    assert.deepEqual(states.slice(-3), ['online', 'stopping', 'offline']);

    const db = openDatabase(dataDir);
    try {
      assert.equal(countAttendance(db), 1, exit.stdout.slice(-2000));
      // Its event is safe: delivered, or in the outbox for the next run.
      assert.equal(outboxCounts(db).total, 1);
    } finally {
      db.close();
    }
  });

  it('stops with exit code 75 when memory passes the hard limit', async () => {
    const dir = tempDir();
    const started = startDaemon({
      PRESENTE_DATA_DIR: dir,
      PRESENTE_CAMERA_SOURCE: 'images',
      PRESENTE_CAMERA_PATH: join(root, 'test', 'fixtures', 'faces', 'scenes'),
      PRESENTE_MEMORY_SOFT_LIMIT_MB: '20',
      PRESENTE_MEMORY_HARD_LIMIT_MB: '40',
      PRESENTE_HTTP_PORT: String(await freePort()),
    });
    const exit = await started.exit;
    assert.equal(exit.code, ExitCode.memoryPressure, exit.stdout.slice(-2000));
    const lines = exit.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; level: number; exitCode?: number });
    const pressure = lines.findIndex((l) => l.msg.startsWith('memory pressure: stopping'));
    const stopped = lines.findIndex((l) => l.msg === 'stopped');
    assert.ok(pressure >= 0 && lines[pressure]!.level === 50, 'logged at error level');
    assert.ok(stopped > pressure);
    assert.equal(lines[stopped]!.exitCode, ExitCode.memoryPressure);
  });

  it('publishes the memory alert over MQTT, then stops with exit code 75', async () => {
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const client = await mqtt.connectAsync(broker.url);
    after(() => client.endAsync());
    const alerts: { kind: string; severity: string }[] = [];
    const heartbeats: Record<string, unknown>[] = [];
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      const body = JSON.parse(payload.toString());
      if (topic.endsWith('/alert')) alerts.push(body);
      if (topic.endsWith('/heartbeat')) heartbeats.push(body);
    });
    await client.subscribeAsync(['presente/door-9/alert', 'presente/door-9/heartbeat'], {
      qos: 1,
    });

    // The first sample, at startup, is under the limit; the next one, 15 s later with the
    // model loaded and the broker connected, is over it.
    const dir = tempDir();
    const started = startDaemon({
      PRESENTE_DATA_DIR: dir,
      PRESENTE_TERMINAL_ID: 'door-9',
      PRESENTE_MQTT_URL: broker.url,
      PRESENTE_CAMERA_SOURCE: 'images',
      PRESENTE_CAMERA_PATH: join(root, 'test', 'fixtures', 'faces', 'scenes'),
      PRESENTE_CAMERA_LOOP: 'true',
      PRESENTE_MEMORY_SAMPLE_S: '15',
      PRESENTE_MEMORY_SOFT_LIMIT_MB: '240',
      PRESENTE_MEMORY_HARD_LIMIT_MB: '250',
      PRESENTE_HTTP_PORT: String(await freePort()),
    });
    const exit = await started.exit;
    assert.equal(exit.code, ExitCode.memoryPressure, exit.stdout.slice(-2000));
    // The heartbeat carries the health figures, with their units.
    const heartbeat = heartbeats[0];
    assert.ok(heartbeat, 'a heartbeat was published');
    for (const key of ['rss_mb', 'heap_used_mb', 'loop_delay_ms_p99', 'uptime_s']) {
      assert.equal(typeof heartbeat[key], 'number', key);
    }
    for (const key of ['gc_pause_ms_p99', 'tensors', 'outbox_pending', 'camera_state']) {
      assert.ok(key in heartbeat, key);
    }

    const memory = alerts.filter((a) => a.kind === 'memory_pressure');
    assert.deepEqual(
      memory.map((a) => a.severity),
      ['critical'],
      exit.stdout.slice(-2000),
    );
  });
});
