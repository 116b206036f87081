import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { countAttendance } from '../src/store/attendance.js';
import { openDatabase } from '../src/store/db.js';
import { outboxCounts } from '../src/store/outbox.js';
import { enrolledDatabase, testConfig } from './attendance-enroll.js';
import { cleanEnv, cliEntry, face, root, tempDir } from './helpers.js';

interface LogLine {
  msg: string;
  module?: string;
  state?: string;
  [key: string]: unknown;
}

/** The pids of the ffmpeg processes started by `parent`. */
function ffmpegChildren(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'ffmpeg' && ppid === parent) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Collects the daemon's JSON log lines and lets the test wait for one. */
function watchLogs(child: ChildProcess) {
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const waitFor = (match: (l: LogLine) => boolean) =>
    new Promise<LogLine>((resolve) => {
      const found = lines.find(match);
      if (found) resolve(found);
      else waiters.push({ match, resolve });
    });
  return { lines, waitFor };
}

test('presente run: ffmpeg killed mid-stream is restarted, no crash, no lost row', async () => {
  const dataDir = tempDir();
  const { db, engine } = await enrolledDatabase(testConfig(dataDir));
  db.close();
  await engine.close();

  // A camera that shows one person standing still, as a looping real-time stream.
  const video = join(tempDir(), 'door.mp4');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-loop', '1', '-framerate', '5'],
    ...['-i', face('scenes/obama_alone.jpg'), '-t', '5', '-r', '5', '-vf', 'scale=640:-2'],
    ...['-pix_fmt', 'yuv420p', video],
  ]);

  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'run'], {
    cwd: root,
    env: cleanEnv({
      PRESENTE_DATA_DIR: dataDir,
      PRESENTE_CAMERA_SOURCE: 'file',
      PRESENTE_CAMERA_PATH: video,
      PRESENTE_CAMERA_LOOP: 'true',
      PRESENTE_CAMERA_REALTIME: 'true',
      PRESENTE_CAMERA_FPS: '5',
      PRESENTE_HTTP_ENABLED: 'false',
      PRESENTE_MQTT_URL: '',
      PRESENTE_LOG_FORMAT: 'json',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const { lines, waitFor } = watchLogs(child);

  try {
    const punch = await waitFor((l) => l.msg === 'attendance recorded');
    assert.equal(punch.user, 'barack_obama');

    const [ffmpeg] = ffmpegChildren(child.pid!);
    assert.ok(ffmpeg, 'the daemon streams through one ffmpeg process');
    process.kill(ffmpeg, 'SIGKILL');
    await waitFor((l) => l.msg === 'camera restarting');
    await waitFor(() => lines.filter((l) => l.msg === 'camera streaming').length >= 2);
    const restarted = ffmpegChildren(child.pid!);
    assert.equal(restarted.length, 1);
    assert.notEqual(restarted[0], ffmpeg);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);

  const states = lines.filter((l) => l.module === 'camera' && l.state).map((l) => l.state);
  assert.deepEqual(states.slice(0, 3), ['streaming', 'restarting', 'streaming']);
  assert.equal(lines.filter((l) => l.msg === 'vision models loaded').length, 1);
  assert.ok(lines.some((l) => l.msg === 'stopped'));

  const check = openDatabase(dataDir, { readonly: true });
  assert.equal(countAttendance(check), 1);
  assert.deepEqual(outboxCounts(check), { total: 1, pending: 1 });
  check.close();
});
