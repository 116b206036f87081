import { statSync } from 'node:fs';
import { Camera, createSource } from '../camera/camera.js';
import { SourceError } from '../camera/source.js';
import type { Config } from '../config/schema.js';
import { PresenteError } from '../errors.js';
import { readClockSync } from '../health/clock.js';
import type { Logger } from '../log.js';
import { loadTemplateKey } from '../privacy/crypto.js';
import type { Db } from '../store/db.js';
import type { VisionEngine } from '../vision/engine.js';
import { Matcher, matchSettings } from '../vision/matcher.js';
import type { AttendanceEvent } from './event.js';
import { type DecisionTiming, type LoopStats, RecognitionLoop } from './loop.js';

export interface ReplayOptions {
  config: Config;
  db: Db;
  engine: VisionEngine;
  logger: Logger;
  /** A video file or a folder of stills. */
  path: string;
  /** Stream time of the first frame (ms since the epoch); now by default. */
  originMs?: number;
  /** Analyse every frame and describe every face (for comparison in benchmarks). */
  naive?: boolean;
  /**
   * Play a video file at real-time pace, stamped with the wall clock, dropping frames that
   * arrive while an analysis runs: what a terminal does with a live camera.
   */
  realtime?: boolean;
  onEvent?: (event: AttendanceEvent, timing: DecisionTiming) => void;
  /** Called about four times a second with the figures so far. */
  onProgress?: (stats: LoopStats) => void;
}

export interface ReplaySummary extends LoopStats {
  /** Stream time covered: frames read / camera.fps. */
  video_s: number;
  wall_s: number;
  /** CPU time of the whole process (both threads) during the replay. */
  cpu_s: number;
}

/**
 * The terminal's pipeline on a recording: the same gate, model, tracker, policy and recorder,
 * reading the file as fast as it is analysed (no frame dropped) and stamping frames with
 * stream time, so punches carry the time they would have had at the door.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const { config, db, engine, logger } = options;
  let isFolder: boolean;
  try {
    isFolder = statSync(options.path).isDirectory();
  } catch {
    throw new PresenteError(`${options.path}: no such file or folder`);
  }
  const camera = {
    ...config.camera,
    source: isFolder ? ('images' as const) : ('file' as const),
    path: options.path,
    realtime: options.realtime === true,
    loop: false,
  };
  const info = await engine.load();
  const clockSynced = await readClockSync();
  const matcher = Matcher.fromStore(
    db,
    loadTemplateKey(config),
    matchSettings(config.vision),
    info.modelId,
  );
  const cameraLogger = logger.child({ module: 'camera' });
  const { source, clock } = createSource(camera, {
    replay: !camera.realtime,
    originMs: options.originMs,
    logger: cameraLogger,
  });
  const frames = new Camera({
    source,
    clock,
    logger: cameraLogger,
    stallMs: camera.stall_s * 1000,
    restartMaxMs: camera.restart_max_s * 1000,
    giveUpAfter: 1,
  });

  const loop = new RecognitionLoop({
    db,
    config: { ...config, camera },
    analyzer: engine,
    matcher: () => matcher,
    recorder: {
      terminalId: config.terminal.id,
      timeZone: config.terminal.timezone,
      modelVersion: info.modelId,
      clockSynced: () => clockSynced === true,
    },
    logger: logger.child({ module: 'recognition' }),
    dropWhenBusy: camera.realtime,
    naive: options.naive,
    onEvent: options.onEvent,
  });

  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(loop.stats), 250)
    : undefined;
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  if (matcher.size === 0) {
    logger.warn({ dataDir: config.data.dir }, 'no face templates: every face will be unknown');
  }
  try {
    const stats = await loop.run(frames.frames(neverAborted), neverAborted).catch((err) => {
      // The recording itself is broken: say so without a stack trace.
      if (err instanceof SourceError)
        throw new PresenteError(err.message, undefined, { cause: err });
      throw err;
    });
    const cpu = process.cpuUsage(cpuBefore);
    return {
      ...stats,
      video_s: round(stats.frames_read / camera.fps),
      wall_s: round((performance.now() - began) / 1000),
      cpu_s: round((cpu.user + cpu.system) / 1e6),
    };
  } finally {
    clearInterval(progress);
  }
}

const neverAborted = new AbortController().signal;

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
