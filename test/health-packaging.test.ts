import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { ExitCode } from '../src/errors.js';
import { root, tempDir } from './helpers.js';

const run = promisify(execFile);
const unitFile = join(root, 'systemd', 'presente.service');
const dockerFile = join(root, 'Dockerfile.arm64');

/** `Key=value` lines of a unit, as a list (keys may repeat). */
function unitEntries(text: string): [string, string][] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('[') && line.includes('='))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)];
    });
}

function unitValues(text: string, key: string): string[] {
  return unitEntries(text)
    .filter(([k]) => k === key)
    .map(([, v]) => v);
}

function unitEnvironment(text: string): Record<string, string> {
  return Object.fromEntries(
    unitValues(text, 'Environment').map((v) => v.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

/** Joins the backslash-continued lines of a Dockerfile. */
function dockerInstructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

function megabytes(size: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(size);
  assert.ok(match, `size ${size}`);
  const scale = { '': 1 / 2 ** 20, K: 1 / 1024, M: 1, G: 1024, T: 1024 ** 2 }[match[2]!]!;
  return Number(match[1]) * scale;
}

describe('systemd unit', () => {
  const text = readFileSync(unitFile, 'utf8');

  it('is a notify service with a progress watchdog, restarts and a memory backstop', () => {
    assert.deepEqual(unitValues(text, 'Type'), ['notify']);
    assert.deepEqual(unitValues(text, 'Restart'), ['on-failure']);
    assert.equal(unitValues(text, 'WatchdogSec').length, 1);
    assert.deepEqual(unitValues(text, 'StateDirectory'), ['presente']);
    assert.ok(unitValues(text, 'DeviceAllow').some((v) => v.includes('video')));
    assert.deepEqual(unitValues(text, 'SupplementaryGroups'), ['video']);
    assert.deepEqual(unitValues(text, 'MemoryDenyWriteExecute'), []);
    // A configuration error cannot be fixed by restarting.
    assert.deepEqual(unitValues(text, 'RestartPreventExitStatus'), [String(ExitCode.config)]);

    // The daemon's own hard limit must trip before the kernel's.
    const { config } = loadConfig({ env: {} });
    const [memoryMax] = unitValues(text, 'MemoryMax');
    assert.ok(megabytes(memoryMax!) > config.memory.hard_limit_mb);

    // The data directory is the state directory.
    const env = unitEnvironment(text);
    assert.equal(env.PRESENTE_DATA_DIR, '/var/lib/presente');
  });

  it('has an exposure of 2.5 or lower in systemd-analyze security', async () => {
    const { stdout } = await run('systemd-analyze', ['security', '--offline=true', unitFile]);
    const match = /Overall exposure level for presente\.service: (\d+(?:\.\d+)?)/.exec(stdout);
    assert.ok(match, stdout.slice(-500));
    assert.ok(Number(match[1]) <= 2.5, `exposure ${match[1]}`);
  });

  it('passes systemd-analyze verify without a warning', async () => {
    // verify checks that ExecStart exists: point it at this node in a copy of the unit.
    const dir = tempDir();
    const copy = join(dir, 'presente.service');
    const execStart = unitValues(text, 'ExecStart')[0]!;
    assert.match(execStart, /^\/usr\/bin\/node \/opt\/presente\/dist\/src\/cli\.js run$/);
    writeFileSync(
      copy,
      text.replace(execStart, `${process.execPath} ${join(root, 'src', 'cli.ts')} run`),
    );
    const { stdout, stderr } = await run('systemd-analyze', ['verify', copy]);
    const ours = `${stdout}${stderr}`
      .split('\n')
      .filter((line) => line.includes('presente.service'));
    assert.deepEqual(ours, []);
  });
});

describe('Dockerfile.arm64', () => {
  const text = readFileSync(dockerFile, 'utf8');
  const instructions = dockerInstructions(text);
  const froms = instructions.filter((i) => i.startsWith('FROM '));

  it('builds in stages for linux/arm64', () => {
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const from of froms) assert.match(from, /--platform=linux\/arm64/);
    assert.ok(instructions.some((i) => /^COPY --from=build /.test(i)));
  });

  it('runs as a non-root user with ffmpeg and a data volume', () => {
    const users = instructions.filter((i) => i.startsWith('USER '));
    assert.equal(users.length, 1);
    assert.doesNotMatch(users[0]!, /^USER (root|0)(:|$)/);
    const runtimeStage = instructions.slice(instructions.indexOf(froms.at(-1)!));
    assert.ok(runtimeStage.some((i) => /^RUN .*apt-get install .*\bffmpeg\b/.test(i)));
    assert.ok(instructions.some((i) => /^VOLUME .*\/var\/lib\/presente/.test(i)));
  });

  it('checks health with presente health after a start period that covers model load', () => {
    const check = instructions.find((i) => i.startsWith('HEALTHCHECK '));
    assert.ok(check);
    assert.match(check, /CMD \["presente", "health"\]/);
    const startPeriod = /--start-period=(\d+)s/.exec(check);
    assert.ok(startPeriod);
    const unit = readFileSync(unitFile, 'utf8');
    const startTimeout = Number(unitValues(unit, 'TimeoutStartSec')[0]);
    assert.ok(Number(startPeriod[1]) >= startTimeout, 'start period >= the unit start timeout');
  });

  it('sets the same environment as the systemd unit', () => {
    const env: Record<string, string> = {};
    for (const i of instructions.filter((i) => i.startsWith('ENV '))) {
      const [key, value] = i.slice(4).split(/=(.*)/s);
      env[key!] = value!;
    }
    assert.deepEqual(env, unitEnvironment(readFileSync(unitFile, 'utf8')));
  });
});
