import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../src/commands/index.js';
import { ExitCode } from '../src/errors.js';
import { softwareVersion } from '../src/paths.js';
import { cliInProcess } from './cli-in-process.js';
import { runCli, tempDir } from './helpers.js';

const cli = cliInProcess;

describe('cli', () => {
  it('prints the version', async () => {
    const { code, stdout } = await cli(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), softwareVersion);
  });

  it('has --help on every command, naming --config, and --json where it prints data', async () => {
    for (const command of commands) {
      const { code, stdout } = await cli([...command.name.split(' '), '--help']);
      assert.equal(code, 0, command.name);
      assert.match(stdout, new RegExp(`Usage: presente ${command.name}`));
      assert.match(stdout, /--config CONFIG/);
      if (command.json) assert.match(stdout, /--json/, command.name);
    }
  });

  it('lists every command in the overview', async () => {
    const { code, stdout } = await cli(['--help']);
    assert.equal(code, 0);
    for (const command of commands) assert.ok(stdout.includes(command.name), command.name);
  });

  it('answers usage errors with exit 2', async () => {
    assert.equal((await cli(['frobnicate'])).code, ExitCode.usage);
    assert.equal((await cli(['users'])).code, ExitCode.usage);
    assert.equal((await cli(['users', 'add'])).code, ExitCode.usage);
    const noName = await cli(['users', 'add', 'x1'], { PRESENTE_DATA_DIR: tempDir() });
    assert.equal(noName.code, ExitCode.usage);
    assert.match(noName.stderr, /--name NAME is required/);
    assert.equal((await cli(['migrate', '--bogus'])).code, ExitCode.usage);
  });

  it('adds, lists, shows and removes users, with --json', async () => {
    const env = { PRESENTE_DATA_DIR: tempDir() };
    assert.equal((await cli(['seed'], env)).code, 0);
    const added = await cli(
      [
        'users',
        'add',
        'e100',
        '--name',
        'Eva Ruiz',
        '--role',
        'staff',
        '--shift',
        'night',
        '--json',
      ],
      env,
    );
    assert.equal(added.code, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).shift, 'night');

    const listed = JSON.parse((await cli(['users', 'list', '--json'], env)).stdout);
    assert.ok(listed.some((u: { code: string }) => u.code === 'e100'));
    const shown = await cli(['users', 'show', 'e100'], env);
    assert.match(shown.stdout, /Eva Ruiz/);

    const duplicate = await cli(['users', 'add', 'e100', '--name', 'Again'], env);
    assert.equal(duplicate.code, ExitCode.failure);
    assert.match(duplicate.stderr, /user 'e100' already exists/);

    const missingShift = await cli(['users', 'add', 'e101', '--name', 'N', '--shift', 'nope'], env);
    assert.equal(missingShift.code, ExitCode.failure);
    assert.match(missingShift.stderr, /shift 'nope' does not exist/);

    assert.equal((await cli(['users', 'remove', 'e100'], env)).code, 0);
    assert.equal((await cli(['users', 'show', 'e100'], env)).code, ExitCode.failure);
  });

  it('adds shifts, refusing 25:00 and accepting overnight', async () => {
    const env = { PRESENTE_DATA_DIR: tempDir() };
    const bad = await cli(['shifts', 'add', 'x', '--start', '25:00', '--end', '06:00'], env);
    assert.equal(bad.code, ExitCode.usage);
    assert.match(bad.stderr, /start: expected HH:MM, got '25:00'/);
    const night = await cli(
      ['shifts', 'add', 'n', '--start', '22:00', '--end', '06:00', '--json'],
      env,
    );
    assert.equal(night.code, 0);
    assert.equal(JSON.parse(night.stdout).overnight, true);
    const listed = JSON.parse((await cli(['shifts', 'list', '--json'], env)).stdout);
    assert.deepEqual(
      listed.map((s: { name: string }) => s.name),
      ['n'],
    );
  });

  it('lists roles after seeding', async () => {
    const env = { PRESENTE_DATA_DIR: tempDir() };
    await cli(['seed'], env);
    const roles = JSON.parse((await cli(['roles', 'list', '--json'], env)).stdout);
    assert.ok(roles.some((r: { name: string }) => r.name === 'staff'));
  });

  it('exits 78 on a bad config, every problem on its own line, no stack trace', async () => {
    const file = join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'camera:\n  fps: fast\nmqtt:\n  urll: x\n');
    const result = await runCli(['config', 'check', '--config', file]);
    assert.equal(result.code, ExitCode.config);
    assert.match(result.stderr, /^ {2}camera\.fps: expected a number, got 'fast'$/m);
    assert.match(result.stderr, /^ {2}mqtt\.urll: unknown key \(did you mean mqtt\.url\?\)$/m);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it('exits 1 with a clear message on a data file that is not SQLite', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'presente.db'), 'garbage '.repeat(1000));
    const result = await runCli(['users', 'list'], { PRESENTE_DATA_DIR: dir });
    assert.equal(result.code, ExitCode.failure);
    assert.match(result.stderr, /not an SQLite database/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
