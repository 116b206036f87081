import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import type { Runtime } from '../src/daemon.js';
import { DaemonBus } from '../src/events.js';
import { SystemdNotifier } from '../src/health/notify.js';
import { SystemdModule } from '../src/health/systemd.js';
import { silentLogger } from '../src/log.js';
import { openDatabase } from '../src/store/db.js';
import { tempDir } from './helpers.js';

const require = createRequire(import.meta.url);

interface Receiver {
  path: string;
  messages: string[];
  /** Resolves once `count` datagrams have arrived. */
  waitFor(count: number): Promise<string[]>;
}

/** Binds a real unix datagram socket, the way systemd listens on NOTIFY_SOCKET. */
function bindReceiver(dir: string): Receiver {
  const unixDgram = require('unix-dgram') as {
    createSocket(
      type: 'unix_dgram',
      listener: (msg: Buffer) => void,
    ): {
      bind(path: string): void;
      close(): void;
    };
  };
  const path = join(dir, 'notify.sock');
  const messages: string[] = [];
  const waiters: { count: number; resolve: (m: string[]) => void }[] = [];
  const socket = unixDgram.createSocket('unix_dgram', (msg) => {
    messages.push(msg.toString());
    for (const w of waiters.filter((w) => messages.length >= w.count)) w.resolve(messages);
  });
  socket.bind(path);
  after(() => socket.close());
  return {
    path,
    messages,
    waitFor: (count) =>
      messages.length >= count
        ? Promise.resolve(messages)
        : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

function runtime(dir: string): Runtime {
  const { config } = loadConfig({ env: {}, overrides: { data: { dir } } });
  const db = openDatabase(dir);
  after(() => db.close());
  return {
    config,
    logger: silentLogger(),
    db,
    bus: new DaemonBus(),
    requestStop: () => undefined,
  };
}

describe('systemd notify', () => {
  it('is off without NOTIFY_SOCKET and with an abstract socket name', () => {
    assert.equal(SystemdNotifier.fromEnv({}, silentLogger()), null);
    assert.equal(SystemdNotifier.fromEnv({ NOTIFY_SOCKET: '@abstract' }, silentLogger()), null);
  });

  it('ignores a watchdog meant for another process', () => {
    const env = { NOTIFY_SOCKET: '/tmp/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' };
    const notifier = SystemdNotifier.fromEnv(env, silentLogger(), 4242);
    assert.equal(notifier?.watchdogUsec, null);
    const ours = SystemdNotifier.fromEnv({ ...env, WATCHDOG_PID: '4242' }, silentLogger(), 4242);
    assert.equal(ours?.watchdogUsec, 1_000_000);
  });

  it('sends READY=1 once the camera streams, and STOPPING=1 on stop', async () => {
    const dir = tempDir();
    const receiver = bindReceiver(dir);
    const rt = runtime(dir);
    const module = new SystemdModule(rt, { env: { NOTIFY_SOCKET: receiver.path } });

    const started = module.start(new AbortController().signal);
    await receiver.waitFor(1);
    assert.deepEqual(receiver.messages, ['STATUS=waiting for the camera']);

    rt.bus.emit('camera', 'streaming');
    await started;
    await receiver.waitFor(2);
    assert.equal(receiver.messages[1], 'READY=1\nSTATUS=running');

    await module.stop();
    await receiver.waitFor(3);
    assert.equal(receiver.messages[2], 'STOPPING=1\nSTATUS=stopping');
  });

  it('feeds the watchdog only while frames make progress', async () => {
    const dir = tempDir();
    const receiver = bindReceiver(dir);
    const rt = runtime(dir);
    let clockMs = 0;
    const module = new SystemdModule(rt, {
      env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '3000000' },
      waitForCamera: false,
      now: () => clockMs,
    });

    // No pings before READY=1: startup is bounded by TimeoutStartSec, not the watchdog.
    rt.bus.emit('progress');
    await module.start(new AbortController().signal);
    await receiver.waitFor(1);
    assert.deepEqual(receiver.messages, ['READY=1\nSTATUS=running']);

    // Frames every 100 ms for 5 s: a ping at most every second (a third of 3 s).
    for (; clockMs <= 5000; clockMs += 100) rt.bus.emit('progress');
    await receiver.waitFor(7);
    const pings = receiver.messages.filter((m) => m === 'WATCHDOG=1').length;
    assert.equal(pings, 6);
    assert.equal(module.watchdog?.pings, 6);

    // The loop stalls: time passes, no frame is handled, no ping goes out. A status message
    // sent afterwards arrives next, proving nothing was queued in between.
    clockMs += 60_000;
    await module.notifier?.status('probe');
    await receiver.waitFor(8);
    assert.equal(receiver.messages[7], 'STATUS=probe');
    assert.equal(module.watchdog?.pings, 6);

    // Frames again: pings again.
    rt.bus.emit('progress');
    await receiver.waitFor(9);
    assert.equal(receiver.messages[8], 'WATCHDOG=1');
    await module.stop();
  });

  it('keeps feeding the watchdog while a failing camera is being retried', async () => {
    const dir = tempDir();
    const receiver = bindReceiver(dir);
    const rt = runtime(dir);
    let clockMs = 0;
    const module = new SystemdModule(rt, {
      env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '3000000' },
      waitForCamera: false,
      now: () => clockMs,
    });
    await module.start(new AbortController().signal);
    await receiver.waitFor(1);

    // No frame at all, but the supervisor schedules a restart every 2 s: the loop is alive.
    for (; clockMs <= 6000; clockMs += 2000) rt.bus.emit('camera_retry');
    await receiver.waitFor(5);
    assert.equal(receiver.messages.filter((m) => m === 'WATCHDOG=1').length, 4);
    await module.stop();
  });

  it('keeps STATUS= up to date for systemctl status', async () => {
    const dir = tempDir();
    const receiver = bindReceiver(dir);
    const rt = runtime(dir);
    let line = 'camera streaming 10 fps';
    const module = new SystemdModule(rt, {
      env: { NOTIFY_SOCKET: receiver.path },
      waitForCamera: false,
      statusLine: () => line,
      statusEveryMs: 20,
    });
    await module.start(new AbortController().signal);
    await receiver.waitFor(1);
    assert.equal(receiver.messages[0], 'READY=1\nSTATUS=camera streaming 10 fps');
    line = 'camera stalled 0 fps';
    for (let n = 2; !receiver.messages.includes('STATUS=camera stalled 0 fps'); n++) {
      await receiver.waitFor(n);
    }
    await module.stop();
  });
});
