import type { RgbImage } from './frame.js';

/**
 * One session of a frame source: it opens the device (or file, or stream), yields frames until
 * the device ends or fails, and releases everything when the iteration stops. The camera
 * supervisor opens a new session after a failure.
 */
export interface FrameSource {
  /** Short description for logs, without credentials (e.g. `v4l2 /dev/video0`). */
  readonly description: string;
  /**
   * True when the end of the input is the end of the work (a file or folder played once).
   * A live source that ends has failed and is restarted.
   */
  readonly finite: boolean;
  /**
   * Yields images; aborting `signal` ends the session and releases the device. The camera
   * stamps and numbers them, so numbering and stream time carry on across restarts.
   */
  frames(signal: AbortSignal): AsyncGenerator<RgbImage>;
}

/** Wall-clock time for live sources, stream time (from a fixed origin) for replays. */
export interface FrameClock {
  /** Timestamp of the frame at `index` of the stream, in ms since the Unix epoch. */
  stamp(index: number): number;
}

export function wallClock(): FrameClock {
  return { stamp: () => Date.now() };
}

/** Stream time: frame `index` is `index / fps` seconds after `originMs`. */
export function streamClock(originMs: number, fps: number): FrameClock {
  return { stamp: (index) => originMs + Math.round((index * 1000) / fps) };
}

/** A failure of the source with the operator-facing reason; the session is restarted. */
export class SourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SourceError';
  }
}
