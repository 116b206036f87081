import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttendanceEvent } from '../src/attendance/event.js';
import { type FaceAnalyzer, RecognitionLoop } from '../src/attendance/loop.js';
import { replay } from '../src/attendance/replay.js';
import { Camera, createSource } from '../src/camera/camera.js';
import { PresenteError } from '../src/errors.js';
import { DaemonBus } from '../src/events.js';
import { silentLogger } from '../src/log.js';
import { countAttendance, punchesBetween } from '../src/store/attendance.js';
import type { Db } from '../src/store/db.js';
import { openDatabase } from '../src/store/db.js';
import { dueRows } from '../src/store/outbox.js';
import { countSightings } from '../src/store/sightings.js';
import type { VisionEngine } from '../src/vision/engine.js';
import { Matcher, matchSettings } from '../src/vision/matcher.js';
import { enrolledDatabase, testConfig } from './attendance-enroll.js';
import { face, root, runCli, tempDir } from './helpers.js';

const clip = face('video/hamilton_clip_10s.mp4');
const dataDir = tempDir();
let db: Db;
let engine: VisionEngine;

before(async () => {
  ({ db, engine } = await enrolledDatabase(testConfig(dataDir)));
});

after(async () => {
  db?.close();
  await engine?.close();
});

/** A video of one photo held still in front of the camera for `seconds`. */
function stillVideo(photo: string, seconds: number, fps: number): string {
  const file = join(tempDir(), 'still.mp4');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-loop', '1', '-framerate', String(fps)],
    ...['-i', photo],
    ...['-t', String(seconds), '-r', String(fps), '-vf', 'scale=640:-2', '-pix_fmt', 'yuv420p'],
    file,
  ]);
  return file;
}

describe('replay of the Hamilton clip', () => {
  test('exactly one check-in, for lin_manuel_miranda; the audience stays unknown', async () => {
    const result = await runCli(
      ['replay', clip, '--json', '--data-dir', dataDir, '--start', '2026-12-02T07:58:00Z'],
      { PRESENTE_TERMINAL_TIMEZONE: 'Europe/Madrid', PRESENTE_TERMINAL_ID: 'door-7' },
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    const summaryLine = JSON.parse(lines.pop()!) as { summary: Record<string, number> };
    const events = lines.map((line) => JSON.parse(line) as AttendanceEvent);

    assert.deepEqual(
      events.map((e) => [e.user.code, e.kind, e.status, e.shift, e.terminal_id]),
      [['lin_manuel_miranda', 'check_in', 'late', 'morning', 'door-7']],
    );
    assert.match(events[0]!.occurred_at, /^2026-12-02T08:58:0\d\.\d{3}\+01:00$/);

    const { summary } = summaryLine;
    assert.equal(summary.frames_read, 100);
    assert.equal(summary.events, 1);
    assert.ok(summary.frames_analysed! > 0 && summary.frames_analysed! <= 100);
    assert.ok(summary.unknown_faces! >= 1, 'the audience is seen and stays unknown');
    assert.ok(summary.faces_seen! > summary.events!);
    for (const key of ['ms_per_analysed_frame_p50', 'ms_per_analysed_frame_p95', 'cpu_s']) {
      assert.equal(typeof summary[key], 'number', key);
    }

    // The printed event is the stored outbox payload, and the row is on disk.
    const check = openDatabase(dataDir, { readonly: true });
    const rows = punchesBetween(check, '2026-12-02T00:00:00Z', '2026-12-03T00:00:00Z');
    const outbox = dueRows(check, 0, Date.now(), 1000).filter(
      (row) => row.eventId === events[0]!.event_id,
    );
    check.close();
    assert.deepEqual(
      rows.map((r) => [r.id, r.kind, r.seq]),
      [[events[0]!.event_id, 'check_in', events[0]!.seq]],
    );
    assert.deepEqual(
      outbox.map((o) => JSON.parse(o.payload)),
      events,
    );
  });
});

describe('a person standing still at the door', () => {
  const config = (overrides: Record<string, unknown>) =>
    testConfig(dataDir, { 'terminal.timezone': 'Europe/Madrid', ...overrides });

  test('two minutes in front of the camera give one punch (motion gate on)', async () => {
    const video = stillVideo(face('scenes/obama_alone.jpg'), 120, 2);
    const events: AttendanceEvent[] = [];
    const summary = await replay({
      config: config({ 'camera.fps': 2 }),
      db,
      engine,
      logger: silentLogger(),
      path: video,
      originMs: Date.parse('2026-12-03T07:59:00Z'),
      onEvent: (event) => events.push(event),
    });

    assert.equal(summary.frames_read, 240);
    assert.deepEqual(
      events.map((e) => [e.user.code, e.kind]),
      [['barack_obama', 'check_in']],
    );
    // Recognised although nothing moves: the undecided face keeps the analysis going...
    assert.ok(summary.frames_analysed >= 3);
    // ...and once decided, the still scene is no longer analysed.
    assert.ok(summary.frames_skipped > 200, `${summary.frames_skipped} skipped`);
  });

  test('every frame analysed (gate off): still one punch in two minutes', async () => {
    const video = stillVideo(face('scenes/alex_lacamoire_alone.jpg'), 120, 0.25);
    const events: AttendanceEvent[] = [];
    const summary = await replay({
      config: config({ 'camera.fps': 0.25, 'camera.motion_gate': false }),
      db,
      engine,
      logger: silentLogger(),
      path: video,
      originMs: Date.parse('2026-12-03T06:55:00Z'),
      onEvent: (event) => events.push(event),
    });

    assert.equal(summary.frames_analysed, 30);
    assert.deepEqual(
      events.map((e) => [e.user.code, e.kind, e.status, e.shift_day]),
      [['alex_lacamoire', 'check_in', 'on_time', '2026-12-03']],
    );
    assert.equal(summary.faces_seen, 1);
  });
});

describe('replay of other inputs', () => {
  test('a folder of stills is replayed in name order', async () => {
    const folder = tempDir();
    for (const name of ['001.jpg', '002.jpg', '003.jpg', '004.jpg']) {
      copyFileSync(face('scenes/obama_alone.jpg'), join(folder, name));
    }
    writeFileSync(join(folder, 'README.txt'), 'not a still');
    const events: AttendanceEvent[] = [];
    const summary = await replay({
      config: testConfig(dataDir, { 'terminal.timezone': 'Europe/Madrid' }),
      db,
      engine,
      logger: silentLogger(),
      path: folder,
      originMs: Date.parse('2026-12-07T07:58:00Z'),
      onEvent: (event) => events.push(event),
    });
    assert.equal(summary.frames_read, 4);
    assert.deepEqual(
      events.map((e) => [e.user.code, e.shift_day]),
      [['barack_obama', '2026-12-07']],
    );
  });

  test('unknown faces are counted and, when asked, recorded as sightings', async () => {
    const folder = tempDir();
    const group = join(root, 'node_modules/@vladmandic/face-api/demo/sample1.jpg');
    for (const name of ['1.jpg', '2.jpg', '3.jpg']) copyFileSync(group, join(folder, name));
    const sightingsBefore = countSightings(db);
    const events: AttendanceEvent[] = [];
    const summary = await replay({
      config: testConfig(dataDir, { 'attendance.record_sightings': true }),
      db,
      engine,
      logger: silentLogger(),
      path: folder,
      onEvent: (event) => events.push(event),
    });
    assert.deepEqual(events, []);
    assert.ok(summary.unknown_faces >= 1, `${summary.unknown_faces} unknown faces`);
    assert.equal(countSightings(db) - sightingsBefore, summary.unknown_faces);
  });

  test('a broken recording is a clear error, not a crash, and nothing is recorded', async () => {
    const broken = join(tempDir(), 'broken.mp4');
    writeFileSync(broken, randomBytes(32 * 1024));
    const before = countAttendance(db);
    await assert.rejects(
      replay({
        config: testConfig(dataDir),
        db,
        engine,
        logger: silentLogger(),
        path: broken,
      }),
      (err) =>
        err instanceof PresenteError && /broken\.mp4: ffmpeg exited with code/.test(err.message),
    );
    await assert.rejects(
      replay({ config: testConfig(dataDir), db, engine, logger: silentLogger(), path: '/nope' }),
      /\/nope: no such file or folder/,
    );
    assert.equal(countAttendance(db), before);
  });
});

describe('the live loop', () => {
  test('one analysis at a time: frames that arrive meanwhile are dropped and counted', async () => {
    const video = stillVideo(face('scenes/obama_alone.jpg'), 3, 10);
    const config = testConfig(dataDir, {
      'camera.source': 'file',
      'camera.path': video,
      'camera.realtime': true,
      'camera.motion_gate': false,
    });
    let active = 0;
    let mostActive = 0;
    const analyzer: FaceAnalyzer = {
      async analyze(frame, opts) {
        mostActive = Math.max(mostActive, ++active);
        try {
          // At least 250 ms an analysis, so frames at 10 fps must arrive while one runs
          // however fast this machine is.
          const [faces] = await Promise.all([engine.analyze(frame, opts), sleep(250)]);
          return faces;
        } finally {
          active--;
        }
      },
    };
    const { source, clock } = createSource(config.camera, { logger: silentLogger() });
    const camera = new Camera({
      source,
      clock,
      logger: silentLogger(),
      stallMs: 10_000,
      restartMaxMs: 1000,
    });
    const matcher = Matcher.fromStore(db, null, matchSettings(config.vision));
    const loop = new RecognitionLoop({
      db,
      config,
      analyzer,
      matcher: () => matcher,
      recorder: { terminalId: 't', timeZone: 'UTC', modelVersion: 'm', clockSynced: () => true },
      logger: silentLogger(),
      dropWhenBusy: true,
    });
    const abort = new AbortController();
    const stats = await loop.run(camera.frames(abort.signal), abort.signal);

    assert.equal(mostActive, 1);
    assert.equal(stats.frames_read, 30);
    assert.ok(stats.frames_dropped >= stats.frames_analysed, `${stats.frames_dropped} dropped`);
    assert.equal(
      stats.frames_read,
      stats.frames_analysed + stats.frames_dropped + stats.frames_skipped,
    );
  });

  test('stopping lets the analysis in flight finish and record its punch', async () => {
    const folder = tempDir();
    for (const name of ['1.jpg', '2.jpg', '3.jpg', '4.jpg', '5.jpg']) {
      copyFileSync(face('scenes/alex_lacamoire_alone.jpg'), join(folder, name));
    }
    const config = testConfig(dataDir, {
      'camera.source': 'images',
      'camera.path': folder,
      'camera.realtime': true,
      'camera.fps': 5,
      'camera.loop': true,
      'attendance.duplicate_period_s': 0,
    });
    const abort = new AbortController();
    let calls = 0;
    const analyzer: FaceAnalyzer = {
      analyze(frame, opts) {
        // The stop request arrives while the deciding analysis runs.
        if (++calls === config.vision.min_frames) abort.abort();
        return engine.analyze(frame, opts);
      },
    };
    const { source, clock } = createSource(config.camera, { logger: silentLogger() });
    const camera = new Camera({
      source,
      clock,
      logger: silentLogger(),
      stallMs: 10_000,
      restartMaxMs: 1000,
    });
    const matcher = Matcher.fromStore(db, null, matchSettings(config.vision));
    const events: AttendanceEvent[] = [];
    const bus = new DaemonBus();
    const told: string[] = [];
    bus.on('attendance', (event) => told.push(`attendance ${event.user.code}`));
    bus.on('outbox', () => told.push('outbox'));
    let progress = 0;
    bus.on('progress', () => progress++);
    const loop = new RecognitionLoop({
      db,
      config,
      analyzer,
      matcher: () => matcher,
      recorder: { terminalId: 't', timeZone: 'UTC', modelVersion: 'm', clockSynced: () => true },
      logger: silentLogger(),
      bus,
      dropWhenBusy: true,
      onEvent: (event) => events.push(event),
    });
    const stats = await loop.run(camera.frames(abort.signal), abort.signal);

    assert.deepEqual(told, ['attendance alex_lacamoire', 'outbox']);
    assert.equal(progress, stats.frames_read);

    assert.equal(stats.frames_analysed, config.vision.min_frames);
    assert.deepEqual(
      events.map((e) => e.user.code),
      ['alex_lacamoire'],
    );
  });
});
