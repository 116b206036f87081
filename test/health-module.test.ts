import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AttendanceEvent } from '../src/attendance/event.js';
import { loadConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { Daemon, type Runtime } from '../src/daemon.js';
import { ExitCode } from '../src/errors.js';
import type { Alert } from '../src/events.js';
import { HealthModule } from '../src/health/module.js';
import type { VisionProbe } from '../src/health/monitor.js';
import { silentLogger } from '../src/log.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { tempDir } from './helpers.js';

/** A daemon with only the health module, over a real database in a temp dir. */
function setup(overrides: Partial<Record<keyof ConfigInput, Record<string, unknown>>> = {}) {
  const dir = tempDir();
  const { config } = loadConfig({
    env: {},
    overrides: { data: { dir }, http: { port: 0 }, ...overrides },
  });
  const db = openDatabase(dir);
  migrate(db);
  after(() => db.close());
  const logger = silentLogger();
  const daemon = new Daemon(logger, { stopTimeoutMs: 5000 });
  const runtime: Runtime = {
    config,
    logger,
    db,
    bus: daemon.bus,
    requestStop: (reason, code) => void daemon.stop(reason, code),
  };
  const alerts: Alert[] = [];
  daemon.bus.on('alert', (alert) => alerts.push(alert));
  return { daemon, runtime, alerts };
}

/** Stands in for the vision engine, which has tests of its own. */
const loadedVision: VisionProbe = {
  loaded: () => true,
  stats: async () => ({ numTensors: 42, numBytes: 3 * 1024 * 1024 }),
};

async function get(module: HealthModule, path: string, method = 'GET') {
  const { port } = module.address!;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('health module', () => {
  it('answers /health with 503 and the reasons until the terminal can work', async () => {
    const { daemon, runtime } = setup();
    const health = new HealthModule(runtime);
    daemon.add(health);
    await daemon.start();
    after(() => daemon.stop('test'));
    assert.equal(health.address?.address, '127.0.0.1');

    let res = await get(health, '/health');
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.body).reasons, ['model not loaded']);

    health.setVision(loadedVision);
    res = await get(health, '/health');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).status, 'ok');

    daemon.bus.emit('camera', 'failed');
    res = await get(health, '/health');
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.body).reasons, ['camera failed']);

    daemon.bus.emit('camera', 'streaming');
    assert.equal((await get(health, '/health')).status, 200);
  });

  it('serves the heartbeat figures at /status and Prometheus text at /metrics', async () => {
    const { daemon, runtime } = setup({ terminal: { id: 'door-7' } });
    const health = new HealthModule(runtime, { vision: loadedVision });
    daemon.add(health);
    await daemon.start();
    after(() => daemon.stop('test'));
    daemon.bus.emit('camera', 'streaming');
    for (let i = 0; i < 5; i++) daemon.bus.emit('progress');
    daemon.bus.emit('attendance', { occurred_at: '2026-03-01T09:00:00+01:00' } as AttendanceEvent);
    health.monitor.recordInference(120);
    health.monitor.recordInference(80);
    await health.tick();

    const status = await get(health, '/status');
    assert.equal(status.status, 200);
    const figures = JSON.parse(status.body);
    assert.equal(figures.terminal_id, 'door-7');
    assert.equal(figures.tensors, 42);
    assert.equal(figures.tensor_mb, 3);
    assert.equal(figures.camera_state, 'streaming');
    assert.ok(figures.camera_fps > 0);
    assert.equal(figures.inference_ms_p95, 120);
    assert.equal(figures.outbox_pending, 0);
    assert.equal(figures.last_attendance_at, '2026-03-01T08:00:00.000Z');
    assert.equal(figures.db_writable, true);
    assert.ok(figures.rss_mb > 10 && figures.heap_limit_mb > figures.heap_used_mb);
    assert.ok(figures.disk_free_mb > 0 && figures.db_size_mb > 0);
    for (const key of Object.keys(figures)) assert.match(key, /^[a-z0-9_]+$/);

    const metrics = await get(health, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.type ?? '', /text\/plain/);
    assert.match(metrics.body, /^presente_rss_mb \d/m);
    assert.match(metrics.body, /^presente_tensors 42$/m);
    assert.match(metrics.body, /^presente_healthy 1$/m);
    assert.match(metrics.body, /^presente_camera_state\{state="streaming"\} 1$/m);
    assert.match(metrics.body, /^process_resident_memory_bytes /m);

    assert.equal((await get(health, '/nothing')).status, 404);
    assert.equal((await get(health, '/health', 'POST')).status, 405);
  });

  it('sheds work and alerts above the soft limit', async () => {
    const { daemon, runtime, alerts } = setup({
      memory: { soft_limit_mb: 1, hard_limit_mb: 1_000_000 },
      http: { enabled: false },
    });
    const health = new HealthModule(runtime, { vision: loadedVision });
    daemon.add(health);
    await daemon.start();
    after(() => daemon.stop('test'));

    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.kind, 'memory_pressure');
    assert.equal(alerts[0]?.severity, 'warning');
    assert.equal(health.frameStride(), 2);
    assert.equal(health.shouldAnalyse(10), true);
    assert.equal(health.shouldAnalyse(11), false);
    assert.equal(daemon.isStopping, false);

    // A second sample at the same level does not repeat the alert.
    await health.tick();
    assert.equal(alerts.length, 1);
  });

  it('alerts, then stops the daemon with the memory-pressure exit code at the hard limit', async () => {
    const { daemon, runtime, alerts } = setup({
      memory: { soft_limit_mb: 1, hard_limit_mb: 2 },
      http: { enabled: false },
    });
    const order: string[] = [];
    daemon.bus.on('alert', (a) => order.push(`alert ${a.severity}`));
    daemon.add({
      name: 'probe',
      start: async () => undefined,
      stop: async () => void order.push('stopped'),
    });
    daemon.add(new HealthModule(runtime));
    await daemon.start();

    assert.equal(await daemon.done, ExitCode.memoryPressure);
    assert.equal(alerts[0]?.kind, 'memory_pressure');
    assert.equal(alerts[0]?.severity, 'critical');
    assert.deepEqual(order, ['alert critical', 'stopped']);
  });

  it('raises and resolves the disk alert', async () => {
    const { daemon, runtime, alerts } = setup({
      memory: { disk_min_free_mb: 1e12 },
      http: { enabled: false },
    });
    const health = new HealthModule(runtime, { vision: loadedVision });
    daemon.add(health);
    await daemon.start();
    after(() => daemon.stop('test'));
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [['disk_low', 'warning']],
    );

    // Once frames flow (the MQTT module has started by then), the alert is told again, once.
    daemon.bus.emit('progress');
    daemon.bus.emit('progress');
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [
        ['disk_low', 'warning'],
        ['disk_low', 'warning'],
      ],
    );
    alerts.splice(1, 1);

    runtime.config.memory.disk_min_free_mb = 1;
    await health.tick();
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [
        ['disk_low', 'warning'],
        ['disk_low', 'resolved'],
      ],
    );
  });

  it('alerts while the camera is down and resolves when it streams again', async () => {
    const { daemon, runtime, alerts } = setup({ http: { enabled: false } });
    daemon.add(new HealthModule(runtime, { vision: loadedVision }));
    await daemon.start();
    after(() => daemon.stop('test'));
    for (const state of ['streaming', 'stalled', 'restarting', 'failed', 'restarting'] as const) {
      daemon.bus.emit('camera', state);
    }
    daemon.bus.emit('camera', 'streaming');
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [
        ['camera_down', 'warning'],
        ['camera_down', 'critical'],
        ['camera_down', 'resolved'],
      ],
    );
  });

  it('alerts while the system clock is not synchronised, and tells punches so', async () => {
    const dir = tempDir();
    const marker = join(dir, 'synchronized');
    const timedatectl = join(dir, 'timedatectl');
    writeFileSync(timedatectl, '#!/bin/sh\necho no\n');
    chmodSync(timedatectl, 0o755);
    let nowMs = 0;
    const { daemon, runtime, alerts } = setup({ http: { enabled: false } });
    const health = new HealthModule(runtime, {
      vision: loadedVision,
      now: () => nowMs,
      clockProbe: { markerFile: marker, timedatectl },
    });
    daemon.add(health);
    await daemon.start();
    after(() => daemon.stop('test'));
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [['clock_unsynced', 'warning']],
    );
    assert.equal(health.clockSynced(), false);
    assert.equal(health.heartbeat()?.clock_synced, false);

    writeFileSync(marker, '');
    nowMs += 60_000;
    await health.tick();
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [
        ['clock_unsynced', 'warning'],
        ['clock_unsynced', 'resolved'],
      ],
    );
    assert.equal(health.clockSynced(), true);
  });
});
