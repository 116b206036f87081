import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { ExitCode, PresenteError } from '../errors.js';
import type { CameraState } from '../events.js';
import type { Logger } from '../log.js';
import { FfmpegSource } from './ffmpeg.js';
import type { Frame, RgbImage } from './frame.js';
import { ImagesSource } from './images.js';
import {
  type FrameClock,
  type FrameSource,
  SourceError,
  streamClock,
  wallClock,
} from './source.js';
import { WebcamSource } from './webcam.js';

/** Consecutive failed sessions, without a frame in between, before the state is `failed`. */
export const FAILED_AFTER = 3;
const RESTART_MIN_MS = 500;
const RETURN_TIMEOUT_MS = 5000;

export interface CameraStatus {
  state: CameraState;
  source: string;
  frames: number;
  restarts: number;
  /** The last failure, for the operator (no credentials). */
  lastError: string | null;
  /** When the state last changed (ms since the epoch). */
  since: number;
}

export interface CameraOptions {
  source: FrameSource;
  logger: Logger;
  /** No frame for this long and the session is restarted. */
  stallMs: number;
  /** Longest wait between restarts; waits double from half a second up to it. */
  restartMaxMs: number;
  clock?: FrameClock;
  restartMinMs?: number;
  /**
   * Consecutive failures after which the frames end with the error (a replay of a broken
   * file). Unset for a terminal: a live camera is retried for as long as the daemon runs.
   */
  giveUpAfter?: number;
}

/**
 * Supervises a frame source: opens it, stamps and numbers its frames, restarts it with
 * backoff when it fails, ends or stalls, and reports its state. A camera fault is never
 * thrown to the consumer; only the end of a finite source (a file played once) ends the frames.
 */
export class Camera extends EventEmitter<{
  state: [CameraStatus];
  /** A restart is scheduled: the supervisor is alive and working on a fault. */
  retry: [{ failures: number; delayMs: number }];
}> {
  private current: CameraStatus;
  private readonly logger: Logger;
  private readonly clock: FrameClock;

  constructor(private readonly options: CameraOptions) {
    super();
    this.logger = options.logger;
    this.clock = options.clock ?? wallClock();
    this.current = {
      state: 'starting',
      source: options.source.description,
      frames: 0,
      restarts: 0,
      lastError: null,
      since: Date.now(),
    };
  }

  get status(): CameraStatus {
    return { ...this.current };
  }

  private setState(state: CameraState, lastError?: string): void {
    if (lastError !== undefined) this.current.lastError = lastError;
    if (this.current.state === state) return;
    this.current.state = state;
    this.current.since = Date.now();
    const fields = { state, source: this.current.source, restarts: this.current.restarts };
    if (state === 'failed') {
      this.logger.error(
        { ...fields, reason: this.current.lastError },
        'camera failed: check the cable, the device and camera.* settings; still retrying',
      );
    } else if (state === 'stalled' || state === 'restarting') {
      this.logger.warn({ ...fields, reason: this.current.lastError }, `camera ${state}`);
    } else {
      this.logger.info(fields, `camera ${state}`);
    }
    this.emit('state', this.status);
  }

  /**
   * Frames until `signal` aborts, the consumer stops reading, or a finite source ends; the
   * state is `stopped` afterwards (or `failed` when a replay gave up).
   */
  async *frames(signal: AbortSignal): AsyncGenerator<Frame> {
    let gaveUp = false;
    try {
      yield* this.supervise(signal);
    } catch (err) {
      gaveUp = true;
      throw err;
    } finally {
      if (!gaveUp) this.setState('stopped');
    }
  }

  private async *supervise(signal: AbortSignal): AsyncGenerator<Frame> {
    let failures = 0;
    while (!signal.aborted) {
      const session = new AbortController();
      const stop = () => session.abort();
      signal.addEventListener('abort', stop, { once: true });
      const iterator = this.options.source.frames(session.signal);
      let gotFrame = false;
      try {
        for (;;) {
          const next = await this.nextWithin(iterator, signal);
          if (next === 'stalled') {
            const seconds = this.options.stallMs / 1000;
            this.setState('stalled', `no frame for ${seconds} s`);
            throw new Error(`no frame for ${seconds} s`);
          }
          if (next.done) break;
          if (!gotFrame) {
            gotFrame = true;
            failures = 0;
            this.setState('streaming');
          }
          const index = this.current.frames++;
          yield { ...next.value, index, timestamp: this.clock.stamp(index) };
        }
        if (signal.aborted) break;
        if (this.options.source.finite) break;
        throw new Error('the source ended');
      } catch (err) {
        if (signal.aborted) break;
        failures = gotFrame ? 1 : failures + 1;
        if (this.options.giveUpAfter !== undefined && failures >= this.options.giveUpAfter) {
          this.current.lastError = (err as Error).message;
          this.setState('failed');
          throw new SourceError(`${this.current.source}: ${(err as Error).message}`);
        }
        await this.restartAfter(failures, (err as Error).message, signal);
      } finally {
        signal.removeEventListener('abort', stop);
        session.abort();
        await this.release(iterator);
      }
    }
  }

  private async restartAfter(failures: number, reason: string, signal: AbortSignal) {
    const min = this.options.restartMinMs ?? RESTART_MIN_MS;
    const delayMs = Math.min(this.options.restartMaxMs, min * 2 ** (failures - 1));
    this.current.restarts++;
    this.setState(failures >= FAILED_AFTER ? 'failed' : 'restarting', reason);
    this.logger.debug({ delayMs, failures }, 'camera restart scheduled');
    this.emit('retry', { failures, delayMs });
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
  }

  /** The next frame, or `stalled` when none comes within the stall time. */
  private async nextWithin(
    iterator: AsyncGenerator<RgbImage>,
    signal: AbortSignal,
  ): Promise<IteratorResult<RgbImage> | 'stalled'> {
    let timer: NodeJS.Timeout | undefined;
    const next = iterator.next();
    // Settled later by the session ending; nobody else waits for it.
    next.catch(() => undefined);
    const stalled = new Promise<'stalled'>((resolve) => {
      timer = setTimeout(() => resolve('stalled'), this.options.stallMs);
    });
    let onAbort = () => {};
    const aborted = new Promise<IteratorResult<RgbImage>>((resolve) => {
      onAbort = () => resolve({ done: true, value: undefined });
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([next, stalled, aborted]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Ends a session; a source that ignores its abort signal is abandoned after a while. */
  private async release(iterator: AsyncGenerator<RgbImage>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, RETURN_TIMEOUT_MS);
      timer.unref();
    });
    try {
      await Promise.race([iterator.return(undefined).then(() => undefined), timeout]);
    } catch (err) {
      this.logger.debug({ err }, 'camera session ended with an error');
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface SourceChoice {
  /** Replays read files as fast as they decode, stamped with stream time. */
  replay?: boolean;
  /** Stream-time origin of a replay (ms since the epoch); now by default. */
  originMs?: number;
  logger: Logger;
  onSpawn?: (pid: number) => void;
}

/** The source `camera.*` asks for, and the clock that stamps its frames. */
export function createSource(
  camera: Config['camera'],
  choice: SourceChoice,
): { source: FrameSource; clock: FrameClock } {
  const { width, height, fps } = camera;
  const realtime = choice.replay ? false : camera.realtime;
  const clock = realtime ? wallClock() : streamClock(choice.originMs ?? Date.now(), fps);
  const needs = (key: 'path' | 'url') => {
    if (!camera[key]) {
      throw new PresenteError(
        `camera.${key} is required for camera.source ${camera.source}`,
        ExitCode.config,
      );
    }
    return camera[key];
  };

  switch (camera.source) {
    case 'v4l2':
      return {
        source: new FfmpegSource({
          input: { kind: 'v4l2', device: camera.device, inputFormat: camera.input_format },
          width,
          height,
          fps,
          onSpawn: choice.onSpawn,
        }),
        clock: wallClock(),
      };
    case 'rtsp':
    case 'http':
      return {
        source: new FfmpegSource({
          input: { kind: camera.source, url: needs('url') },
          width,
          height,
          fps,
          onSpawn: choice.onSpawn,
        }),
        clock: wallClock(),
      };
    case 'file':
      return {
        source: new FfmpegSource({
          input: { kind: 'file', path: needs('path'), realtime, loop: camera.loop },
          width,
          height,
          fps,
          onSpawn: choice.onSpawn,
        }),
        clock,
      };
    case 'images':
      return {
        source: new ImagesSource({
          path: needs('path'),
          width,
          height,
          fps,
          realtime,
          loop: camera.loop,
          logger: choice.logger,
        }),
        clock,
      };
    case 'webcam':
      return {
        source: new WebcamSource({ device: camera.device, width, height, fps }),
        clock: wallClock(),
      };
  }
}
