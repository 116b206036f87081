import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { HealthModule } from '../src/health/module.js';
import { silentLogger } from '../src/log.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { runCli, tempDir } from './helpers.js';

/** The health side of a daemon in this process, on a free port of 127.0.0.1. */
async function startDaemonHealth(dir: string) {
  const { config } = loadConfig({ env: {}, overrides: { data: { dir }, http: { port: 0 } } });
  const db = openDatabase(dir);
  migrate(db);
  const logger = silentLogger();
  const daemon = new Daemon(logger);
  const health = new HealthModule({
    config,
    logger,
    db,
    bus: daemon.bus,
    requestStop: () => undefined,
  });
  daemon.add(health);
  await daemon.start();
  after(async () => {
    await daemon.stop('test');
    db.close();
  });
  return { health, daemon, port: String(health.address!.port) };
}

describe('presente health and status', () => {
  it('health exits 1 when no daemon answers', async () => {
    const dir = tempDir();
    const result = await runCli(['health', '--json', '--timeout', '2'], {
      PRESENTE_DATA_DIR: dir,
      PRESENTE_HTTP_PORT: '9',
    });
    assert.equal(result.code, 1, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.status, 'unreachable');
    assert.match(body.reasons[0], /no answer from the daemon at http:\/\/127\.0\.0\.1:9\/health/);
  });

  it('health follows the daemon verdict: 1 while the model is not loaded, then 0', async () => {
    const dir = tempDir();
    const { health, port } = await startDaemonHealth(dir);
    const env = { PRESENTE_DATA_DIR: dir, PRESENTE_HTTP_PORT: port };

    let result = await runCli(['health'], env);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /unhealthy: model not loaded/);

    health.setVision({ loaded: () => true, stats: async () => ({ numTensors: 7, numBytes: 0 }) });
    result = await runCli(['health', '--json'], env);
    assert.equal(result.code, 0, result.stdout);
    assert.equal(JSON.parse(result.stdout).status, 'ok');
  });

  it('status prints the heartbeat of the running daemon', async () => {
    const dir = tempDir();
    const { port } = await startDaemonHealth(dir);
    const result = await runCli(['status', '--json'], {
      PRESENTE_DATA_DIR: dir,
      PRESENTE_HTTP_PORT: port,
    });
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse(result.stdout);
    assert.equal(status.daemon, 'running');
    assert.equal(typeof status.rss_mb, 'number');
    assert.equal(typeof status.loop_delay_ms_p99, 'number');
    assert.equal(status.outbox_pending, 0);
    assert.equal(status.model_loaded, false);
  });

  it('status reads the files when the daemon is not running', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    migrate(db);
    db.close();
    const result = await runCli(['status', '--json', '--timeout', '2'], {
      PRESENTE_DATA_DIR: dir,
      PRESENTE_HTTP_PORT: '9',
    });
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse(result.stdout);
    assert.equal(status.daemon, 'not running');
    assert.equal(status.outbox_pending, 0);
    assert.ok(status.db_size_mb > 0);
    assert.ok(status.disk_free_mb > 0);

    const human = await runCli(['status'], { PRESENTE_DATA_DIR: dir, PRESENTE_HTTP_PORT: '9' });
    assert.match(human.stdout, /^daemon +not running$/m);
  });
});
