import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { defaultYaml, referenceTable } from '../src/config/docs.js';
import { configKeys, loadConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { ConfigError } from '../src/errors.js';
import { root, tempDir } from './helpers.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the configuration to be refused');
}

function writeYaml(text: string): string {
  const file = join(tempDir(), 'presente.yaml');
  writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  it('gives every default without a file', () => {
    const { config } = loadConfig({ env: {} });
    assert.equal(config.terminal.id, 'terminal-1');
    assert.equal(config.mqtt.base_topic, 'presente');
    assert.equal(config.camera.source, 'v4l2');
    assert.ok(Object.isFrozen(config));
  });

  it('reads a YAML file, then the environment above it', () => {
    const file = writeYaml('terminal:\n  id: door-7\ncamera:\n  fps: 5\n');
    const { config } = loadConfig({
      file,
      env: { PRESENTE_CAMERA_FPS: '12', PRESENTE_DATA_DIR: '/srv/x', PRESENTE_CAMERA_LOOP: 'yes' },
    });
    assert.equal(config.terminal.id, 'door-7');
    assert.equal(config.camera.fps, 12);
    assert.equal(config.camera.loop, true);
    assert.equal(config.data.dir, '/srv/x');
  });

  it('takes the file from PRESENTE_CONFIG', () => {
    const file = writeYaml('mqtt:\n  url: mqtt://broker:1883\n');
    const { config } = loadConfig({ env: { PRESENTE_CONFIG: file } });
    assert.equal(config.mqtt.url, 'mqtt://broker:1883');
  });

  it('lists every problem at once, one line each', () => {
    const file = writeYaml(
      'camera:\n  fps: fast\n  sorce: file\nvision:\n  detector: big\nterminal:\n  timezone: Mars/Base\n',
    );
    const found = problems(() => loadConfig({ file, env: { PRESENTE_MQTT_UR: 'x' } }));
    assert.deepEqual(found.sort(), [
      'PRESENTE_MQTT_UR: unknown environment variable (did you mean PRESENTE_MQTT_URL?)',
      "camera.fps: expected a number, got 'fast'",
      'camera.sorce: unknown key (did you mean camera.source?)',
      "terminal.timezone: expected an IANA time zone such as Europe/Madrid, got 'Mars/Base'",
      "vision.detector: expected one of 'tiny', 'ssd', got 'big'",
    ]);
  });

  it('refuses an unknown section with a suggestion', () => {
    const file = writeYaml('mqt:\n  url: x\n');
    assert.deepEqual(
      problems(() => loadConfig({ file, env: {} })),
      ['mqt: unknown key (did you mean mqtt?)'],
    );
  });

  it('reports a missing file and broken YAML as problems', () => {
    assert.match(
      problems(() => loadConfig({ file: '/nonexistent/p.yaml', env: {} }))[0]!,
      /ENOENT/,
    );
    const file = writeYaml('camera: [\n');
    assert.match(problems(() => loadConfig({ file, env: {} }))[0]!, /not valid YAML/);
  });

  it('derives one environment variable per key', () => {
    const envs = configKeys().map((k) => k.env);
    assert.equal(new Set(envs).size, envs.length);
    assert.ok(envs.includes('PRESENTE_MQTT_URL'));
    assert.ok(envs.includes('PRESENTE_CAMERA_PATH'));
    assert.ok(envs.includes('PRESENTE_DATA_DIR'));
  });

  it('keeps config/default.yaml in step with the schema', () => {
    const text = readFileSync(join(root, 'config', 'default.yaml'), 'utf8');
    assert.equal(text, defaultYaml(), 'run npm run config-docs');
    assert.deepEqual(parse(text), configSchema.parse({}));
  });

  it('keeps the README configuration reference in step with the schema', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.ok(readme.includes(referenceTable()), 'run npm run config-docs');
    for (const key of configKeys()) assert.ok(readme.includes(`\`${key.section}.${key.key}\``));
  });
});
