// The recognition pipeline (motion gate, minimum face size, tracking and vote) beside a naive
// loop that detects and describes every face in every frame, on the Hamilton clip, in one
// run with one loaded model. Each variant replays into its own copy of an enrolled database.
//
// Two passes per variant:
// - as fast as it decodes (no frame dropped): the work per frame and per second of video;
// - at real-time pace with frames dropped while busy, as a terminal runs: the delay from the
//   first frame that shows the person to their attendance row, in wall-clock time.
//
// The first frame that shows the person is the first frame of the punching face's track in
// the naive as-fast pass, where every frame is analysed.
//
// A third pass shows a door with nobody at it: ten seconds of a static scene.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ReplaySummary, replay } from '../src/attendance/replay.js';
import { silentLogger } from '../src/log.js';
import { packageRoot } from '../src/paths.js';
import { DATABASE_FILE, openDatabase } from '../src/store/db.js';
import type { VisionEngine } from '../src/vision/engine.js';
import { enrolledDatabase, testConfig } from '../test/attendance-enroll.js';

const CLIP = join(packageRoot, 'test', 'fixtures', 'faces', 'video', 'hamilton_clip_10s.mp4');

interface Pass {
  summary: ReplaySummary;
  /** Offset (s) in the clip of the first frame of the punching face's track. */
  firstFaceS: number | null;
  /** Wall-clock seconds from that frame to the row (real-time pass only). */
  toRowS: number | null;
}

async function pass(
  engine: VisionEngine,
  enrolledDir: string,
  naive: boolean,
  realtime: boolean,
  firstFaceS: number | null,
  path = CLIP,
): Promise<Pass> {
  const dir = mkdtempSync(join(tmpdir(), 'presente-bench-pipeline-'));
  try {
    copyFileSync(join(enrolledDir, DATABASE_FILE), join(dir, DATABASE_FILE));
    const config = testConfig(dir, { 'terminal.timezone': 'Europe/Madrid' });
    const db = openDatabase(dir);
    let found: number | null = null;
    let toRowS: number | null = null;
    const summary = await replay({
      config,
      db,
      engine,
      logger: silentLogger(),
      path,
      naive,
      realtime,
      onEvent: (_event, timing) => {
        found ??= (timing.firstSeen - timing.streamStart) / 1000;
        if (realtime && firstFaceS !== null && toRowS === null) {
          toRowS = (Date.now() - (timing.streamStart + firstFaceS * 1000)) / 1000;
        }
      },
    });
    db.close();
    return { summary, firstFaceS: found, toRowS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Ten seconds of a static scene at the clip's size and rate: the door with nobody at it. */
function idleDoor(dir: string): string {
  const file = join(dir, 'idle.mp4');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', 'testsrc2=size=640x360:rate=30000/1001:duration=10,tblend=all_mode=average'],
    ...['-vf', 'trim=end_frame=1,loop=loop=-1:size=1,trim=duration=10,setpts=N/FRAME_RATE/TB'],
    ...['-pix_fmt', 'yuv420p', file],
  ]);
  return file;
}

const fixed = (value: number | null, digits = 1) => (value === null ? '-' : value.toFixed(digits));

export async function run(): Promise<string> {
  const enrolledDir = mkdtempSync(join(tmpdir(), 'presente-bench-enrolled-'));
  const { db, engine } = await enrolledDatabase(testConfig(enrolledDir));
  db.close();
  try {
    const naiveFast = await pass(engine, enrolledDir, true, false, null);
    const pipelineFast = await pass(engine, enrolledDir, false, false, null);
    const firstFace = naiveFast.firstFaceS;
    const naiveLive = await pass(engine, enrolledDir, true, true, firstFace);
    const pipelineLive = await pass(engine, enrolledDir, false, true, firstFace);
    const idle = idleDoor(enrolledDir);
    const naiveIdle = await pass(engine, enrolledDir, true, false, null, idle);
    const pipelineIdle = await pass(engine, enrolledDir, false, false, null, idle);
    const load = loadavg()[0]!;

    const row = (label: string, a: string | number, b: string | number) =>
      `| ${label} | ${a} | ${b} |`;
    const both = (f: (p: Pass) => string | number) => [f(pipelineFast), f(naiveFast)] as const;
    const live = (f: (p: Pass) => string | number) => [f(pipelineLive), f(naiveLive)] as const;
    const idleRun = (f: (p: Pass) => string | number) => [f(pipelineIdle), f(naiveIdle)] as const;
    const perVideoS = (p: Pass) => fixed(p.summary.cpu_s / p.summary.video_s, 2);

    return [
      `Hamilton clip (10 s, 640x360 at 29.97 fps), read at camera.fps 10 into 640x480 frames;`,
      `the person first shows at ${fixed(firstFace, 1)} s of the clip. Load average at the end:`,
      `${load.toFixed(1)} (other work on the machine slows every figure alike).`,
      '',
      '| figure | pipeline (gate, min face, track, vote) | naive (detect+describe every frame) |',
      '|---|---|---|',
      row('frames read', ...both((p) => p.summary.frames_read)),
      row('frames analysed', ...both((p) => p.summary.frames_analysed)),
      row('ms per analysed frame p50', ...both((p) => fixed(p.summary.ms_per_analysed_frame_p50))),
      row('ms per analysed frame p95', ...both((p) => fixed(p.summary.ms_per_analysed_frame_p95))),
      row('CPU s per s of video (every frame read)', ...both(perVideoS)),
      row('wall s for the clip, as fast as it decodes', ...both((p) => fixed(p.summary.wall_s))),
      row('punches', ...both((p) => p.summary.events)),
      row('**real time**: frames analysed', ...live((p) => p.summary.frames_analysed)),
      row('real time: frames dropped while busy', ...live((p) => p.summary.frames_dropped)),
      row('real time: CPU s per s of video', ...live(perVideoS)),
      row('real time: s from first face frame to its row', ...live((p) => fixed(p.toRowS, 2))),
      row('real time: punches', ...live((p) => p.summary.events)),
      row('**empty door, 10 s**: frames analysed', ...idleRun((p) => p.summary.frames_analysed)),
      row('empty door: CPU s per s of video', ...idleRun(perVideoS)),
    ].join('\n');
  } finally {
    await engine.close();
    rmSync(enrolledDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await run()}\n`);
}
