import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RgbImage } from './frame.js';
import { type FrameSource, SourceError } from './source.js';
import { decodeStill, waitUntil } from './still.js';

interface FsWebcam {
  capture(location: string, callback: (err: Error | null, location?: string) => void): void;
}

interface NodeWebcamModule {
  FSWebcam: new (options: Record<string, unknown>) => FsWebcam;
}

const require = createRequire(import.meta.url);

export interface WebcamOptions {
  /** /dev/videoN, or fswebcam's FILE:photo.jpg and TEST devices. */
  device: string;
  width: number;
  height: number;
  fps: number;
}

/** node-webcam builds a shell command line; quote what it splices in. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Snapshots through node-webcam and fswebcam, for cameras ffmpeg cannot drive. Each frame is
 * one fswebcam run writing a JPEG to a private temporary folder, so the rate is low; prefer
 * v4l2 where it works.
 */
export class WebcamSource implements FrameSource {
  readonly description: string;
  readonly finite = false;

  constructor(private readonly options: WebcamOptions) {
    this.description = `webcam ${options.device}`;
  }

  async *frames(signal: AbortSignal): AsyncGenerator<RgbImage> {
    const { width, height, fps, device } = this.options;
    const NodeWebcam = require('node-webcam') as NodeWebcamModule;
    const camera = new NodeWebcam.FSWebcam({
      width,
      height,
      device: shellQuote(device),
      output: 'jpeg',
      quality: 90,
      callbackReturn: 'location',
      saveShots: false,
      verbose: false,
    });
    const dir = mkdtempSync(join(tmpdir(), 'presente-webcam-'));
    const location = join(dir, 'frame.jpg');

    try {
      while (!signal.aborted) {
        const due = performance.now() + 1000 / fps;
        rmSync(location, { force: true });
        await new Promise<void>((resolve, reject) =>
          camera.capture(shellQuote(location), (err) =>
            err
              ? reject(new SourceError(`fswebcam failed on ${device}: ${err.message.trim()}`))
              : resolve(),
          ),
        );
        // fswebcam exits 0 when it cannot open the device; only the missing file tells.
        if (!statSync(location, { throwIfNoEntry: false })?.size) {
          throw new SourceError(`fswebcam wrote no image from ${device}`);
        }
        yield await decodeStill(location, width, height);
        await waitUntil(due, signal);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
