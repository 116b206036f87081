import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { Camera, type CameraStatus, createSource } from '../src/camera/camera.js';
import { FfmpegSource, ffmpegArgs, redactUrl } from '../src/camera/ffmpeg.js';
import type { Frame } from '../src/camera/frame.js';
import { ImagesSource } from '../src/camera/images.js';
import { type FrameSource, streamClock } from '../src/camera/source.js';
import { WebcamSource } from '../src/camera/webcam.js';
import { configSchema } from '../src/config/schema.js';
import type { CameraState } from '../src/events.js';
import { silentLogger } from '../src/log.js';
import { face, tempDir } from './helpers.js';

const clip = face('video/hamilton_clip_10s.mp4');
const logger = silentLogger();

function camera(source: FrameSource, extra: Partial<ConstructorParameters<typeof Camera>[0]> = {}) {
  const cam = new Camera({
    source,
    logger,
    stallMs: 5000,
    restartMaxMs: 200,
    restartMinMs: 20,
    ...extra,
  });
  const states: CameraState[] = [];
  const statuses: CameraStatus[] = [];
  cam.on('state', (status) => {
    states.push(status.state);
    statuses.push(status);
  });
  return { cam, states, statuses };
}

/** Reads frames until `until` says stop (or the frames end); returns them. */
async function collect(
  cam: Camera,
  until: (frames: Frame[]) => boolean = () => false,
): Promise<Frame[]> {
  const abort = new AbortController();
  const frames: Frame[] = [];
  for await (const frame of cam.frames(abort.signal)) {
    frames.push(frame);
    if (until(frames)) abort.abort();
  }
  return frames;
}

/** Waits for a state while frames are being read in the background, then stops reading. */
async function runUntilState(cam: Camera, states: CameraState[], wanted: CameraState) {
  const abort = new AbortController();
  const reading = (async () => {
    for await (const _ of cam.frames(abort.signal)) {
      // frames are not the point here
    }
  })();
  while (!states.includes(wanted)) await new Promise((r) => setTimeout(r, 20));
  abort.abort();
  await reading;
}

describe('ffmpeg sources', () => {
  test('a file is decoded to frames of the configured size, stamped with stream time', async () => {
    const source = new FfmpegSource({
      input: { kind: 'file', path: clip, realtime: false, loop: false },
      width: 320,
      height: 240,
      fps: 5,
    });
    const { cam, states } = camera(source, { clock: streamClock(1_000_000, 5) });
    const frames = await collect(cam);

    assert.ok(frames.length >= 49 && frames.length <= 51, `${frames.length} frames`);
    for (const frame of frames) assert.equal(frame.data.length, 320 * 240 * 3);
    assert.deepEqual(
      frames.slice(0, 3).map((f) => [f.index, f.timestamp]),
      [
        [0, 1_000_000],
        [1, 1_000_200],
        [2, 1_000_400],
      ],
    );
    assert.deepEqual(states, ['streaming', 'stopped']);
  });

  test('v4l2 is one ffmpeg process with size, rate and input format', () => {
    const args = ffmpegArgs({
      input: { kind: 'v4l2', device: '/dev/video0', inputFormat: 'mjpeg' },
      width: 640,
      height: 480,
      fps: 10,
    });
    const joined = args.join(' ');
    assert.match(
      joined,
      /-f v4l2 -input_format mjpeg -video_size 640x480 -framerate 10 -i \/dev\/video0/,
    );
    assert.match(joined, /-pix_fmt rgb24 -f rawvideo pipe:1$/);
    assert.equal(
      redactUrl('rtsp://admin:secret@10.0.0.5:554/stream'),
      'rtsp://10.0.0.5:554/stream',
    );
  });

  test('a missing device is reported and retried, never thrown', async () => {
    const config = configSchema.parse({ camera: { source: 'v4l2', device: '/dev/video97' } });
    const { source, clock } = createSource(config.camera, { logger });
    const { cam, states, statuses } = camera(source, { clock });
    const retries: number[] = [];
    cam.on('retry', ({ failures }) => retries.push(failures));
    await runUntilState(cam, states, 'failed');

    assert.deepEqual(states.slice(0, 2), ['restarting', 'failed']);
    assert.ok(cam.status.restarts >= 3);
    // Every scheduled restart is told, also while the state stays 'failed' (it feeds the
    // watchdog: a camera that is away must not get the daemon killed).
    assert.deepEqual(
      retries,
      retries.map((_, i) => i + 1),
    );
    assert.equal(retries.length, cam.status.restarts);
    assert.match(statuses.at(-1)?.lastError ?? '', /ffmpeg exited with code/);
    assert.equal(cam.status.state, 'stopped');
  });

  test('ffmpeg killed mid-stream: restarted, state reported, frames go on', async () => {
    const pids: number[] = [];
    const source = new FfmpegSource({
      input: { kind: 'file', path: clip, realtime: false, loop: true },
      width: 160,
      height: 120,
      fps: 10,
      onSpawn: (pid) => pids.push(pid),
    });
    const { cam, states } = camera(source);
    const frames = await collect(cam, (read) => {
      if (read.length === 20) process.kill(pids[0]!, 'SIGKILL');
      return states.filter((s) => s === 'streaming').length === 2 && read.length >= 60;
    });

    assert.equal(pids.length, 2);
    assert.deepEqual(states, ['streaming', 'restarting', 'streaming', 'stopped']);
    assert.equal(cam.status.restarts, 1);
    assert.match(cam.status.lastError ?? '', /signal SIGKILL/);
    assert.deepEqual(
      frames.map((f) => f.index),
      frames.map((_, i) => i),
    );
  });

  test('garbage bytes instead of a video: error reported, source restarted', async () => {
    const dir = tempDir();
    const garbage = join(dir, 'garbage.mp4');
    writeFileSync(garbage, randomBytes(64 * 1024));
    const source = new FfmpegSource({
      input: { kind: 'file', path: garbage, realtime: false, loop: false },
      width: 160,
      height: 120,
      fps: 10,
    });
    const { cam, states, statuses } = camera(source);
    await runUntilState(cam, states, 'failed');

    assert.equal(states[0], 'restarting');
    assert.match(statuses[0]?.lastError ?? '', /ffmpeg exited with code \d+: .+/);
    assert.ok(cam.status.restarts >= 3);
  });

  test('a frame stream cut inside a frame is an error and the source restarts', async () => {
    const dir = tempDir();
    // Stands in for a broken capture device: writes 1000 random bytes, then exits cleanly.
    const device = join(dir, 'broken-device.sh');
    writeFileSync(device, '#!/bin/sh\nhead -c 1000 /dev/urandom\nexit 0\n');
    chmodSync(device, 0o755);
    const source = new FfmpegSource({
      input: { kind: 'v4l2', device: '/dev/video0', inputFormat: '' },
      width: 160,
      height: 120,
      fps: 10,
      binary: device,
    });
    const { cam, states, statuses } = camera(source);
    await runUntilState(cam, states, 'failed');

    assert.equal(statuses[0]?.lastError, 'the stream ended in the middle of a frame');
  });

  test('no frame within camera.stall_s: stalled, then restarted', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'silent.fifo');
    execFileSync('mkfifo', [fifo]);
    const source = new FfmpegSource({
      input: { kind: 'file', path: fifo, realtime: false, loop: false },
      width: 160,
      height: 120,
      fps: 10,
    });
    const { cam, states, statuses } = camera(source, { stallMs: 300 });
    await runUntilState(cam, states, 'restarting');

    assert.deepEqual(states.slice(0, 2), ['stalled', 'restarting']);
    assert.equal(statuses[0]?.lastError, 'no frame for 0.3 s');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('IP camera over HTTP', () => {
  test('an MJPEG stream is read once it comes up, and a camera that goes away is retried', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/video.mjpg`;
    const source = new FfmpegSource({
      input: { kind: 'http', url },
      width: 160,
      height: 120,
      fps: 10,
    });
    const { cam, states } = camera(source);
    const abort = new AbortController();
    const frames: Frame[] = [];
    const reading = (async () => {
      for await (const frame of cam.frames(abort.signal)) frames.push(frame);
    })();

    // The camera comes up after the terminal: a multipart MJPEG server, as IP cameras serve.
    const server = spawn('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip],
      ...['-c:v', 'mjpeg', '-q:v', '5', '-f', 'mpjpeg', '-listen', '1', url],
    ]);
    try {
      while (frames.length < 10) await new Promise((r) => setTimeout(r, 20));
      server.kill('SIGKILL');
      while (states.at(-1) === 'streaming') await new Promise((r) => setTimeout(r, 20));
    } finally {
      server.kill('SIGKILL');
      abort.abort();
      await reading;
    }

    assert.equal(frames[0]?.data.length, 160 * 120 * 3);
    assert.ok(states.includes('streaming'));
    assert.ok(['restarting', 'failed'].includes(states.at(-2) ?? ''), states.join(' '));
  });
});

async function solid(file: string, rgb: [number, number, number]) {
  const [r, g, b] = rgb;
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b } } }).toFile(
    file,
  );
}

describe('images source', () => {
  test('stills are read in name order, unreadable ones skipped, and it can loop', async () => {
    const dir = tempDir();
    await solid(join(dir, 'b.png'), [0, 0, 255]);
    await solid(join(dir, 'a.jpg'), [255, 0, 0]);
    await solid(join(dir, '10.png'), [0, 255, 0]);
    writeFileSync(join(dir, 'broken.jpg'), randomBytes(500));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');

    const source = new ImagesSource({
      path: dir,
      width: 32,
      height: 24,
      fps: 10,
      realtime: false,
      loop: true,
      logger,
    });
    const { cam, states } = camera(source);
    const frames: Frame[] = [];
    for await (const frame of cam.frames(new AbortController().signal)) {
      frames.push(frame);
      if (frames.length === 6) break;
    }
    assert.deepEqual(states, ['streaming', 'stopped'], 'a consumer that stops reading stops it');
    const dominant = frames.map((f) => {
      const [r, g, b] = [f.data[0]!, f.data[1]!, f.data[2]!];
      return r > 200 ? 'red' : g > 200 ? 'green' : b > 200 ? 'blue' : 'other';
    });
    assert.deepEqual(dominant, ['green', 'red', 'blue', 'green', 'red', 'blue']);
    assert.equal(frames[0]?.width, 32);
  });

  test('an empty folder is reported as a failure', async () => {
    const source = new ImagesSource({
      path: tempDir(),
      width: 32,
      height: 24,
      fps: 10,
      realtime: false,
      loop: false,
      logger,
    });
    const { cam, states, statuses } = camera(source, { giveUpAfter: 1 });
    await assert.rejects(collect(cam), /no images in the folder/);
    assert.deepEqual(states, ['failed']);
    assert.match(statuses[0]?.lastError ?? '', /no images/);
  });
});

describe('webcam source (fswebcam)', () => {
  test('snapshots from a FILE: device become frames', async () => {
    const dir = tempDir();
    const photo = join(dir, 'photo.jpg');
    // fswebcam reads baseline JPEGs only, as a camera would produce them.
    await sharp(face('scenes/obama_alone.jpg'))
      .resize(320, 240, { fit: 'fill' })
      .jpeg({ progressive: false })
      .toFile(photo);
    const source = new WebcamSource({ device: `FILE:${photo}`, width: 320, height: 240, fps: 50 });
    const { cam, states } = camera(source);
    const frames = await collect(cam, (read) => read.length === 2);

    assert.equal(frames.length, 2);
    assert.equal(frames[0]?.data.length, 320 * 240 * 3);
    const mean = frames[0]!.data.reduce((sum, v) => sum + v, 0) / frames[0]!.data.length;
    assert.ok(mean > 40 && mean < 220, `mean brightness ${mean}`);
    assert.deepEqual(states, ['streaming', 'stopped']);
  });

  test("fswebcam's TEST device streams too", async () => {
    const source = new WebcamSource({ device: 'TEST', width: 160, height: 120, fps: 50 });
    const { cam } = camera(source);
    const frames = await collect(cam, (read) => read.length === 1);
    assert.equal(frames[0]?.width, 160);
  });

  test('a device fswebcam cannot open is reported', async () => {
    const source = new WebcamSource({ device: '/dev/video97', width: 160, height: 120, fps: 50 });
    const { cam, states, statuses } = camera(source);
    await runUntilState(cam, states, 'restarting');
    assert.match(
      statuses[0]?.lastError ?? '',
      /fswebcam failed on \/dev\/video97: No webcam found/,
    );
  });
});
