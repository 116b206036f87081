import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Logger } from '../log.js';
import type { RgbImage } from './frame.js';
import { type FrameSource, SourceError } from './source.js';
import { decodeStill, waitUntil } from './still.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff']);

export interface ImagesOptions {
  path: string;
  width: number;
  height: number;
  fps: number;
  /** Show each still for 1/fps seconds; otherwise as fast as they decode. */
  realtime: boolean;
  loop: boolean;
  logger: Logger;
}

/** The stills of a folder, in name order. */
export function listImages(folder: string): string[] {
  let names: string[];
  try {
    if (!statSync(folder).isDirectory()) throw new SourceError(`${folder}: not a folder`);
    names = readdirSync(folder);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`${folder}: cannot read the folder (${(err as Error).message})`);
  }
  return names
    .filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(folder, name));
}

/** A folder of stills played as a camera; a still that cannot be decoded is skipped. */
export class ImagesSource implements FrameSource {
  readonly description: string;
  readonly finite: boolean;

  constructor(private readonly options: ImagesOptions) {
    this.description = `images ${options.path}`;
    this.finite = !options.loop;
  }

  async *frames(signal: AbortSignal): AsyncGenerator<RgbImage> {
    const { width, height, fps, realtime, loop, logger } = this.options;
    const files = listImages(this.options.path);
    if (files.length === 0) throw new SourceError(`${this.options.path}: no images in the folder`);

    let due = performance.now();
    let decoded = 0;
    do {
      for (const file of files) {
        if (signal.aborted) return;
        let image: RgbImage;
        try {
          image = await decodeStill(file, width, height);
        } catch (err) {
          logger.warn({ file, err: (err as Error).message }, 'image skipped: cannot decode it');
          continue;
        }
        decoded++;
        if (realtime) {
          await waitUntil(due, signal);
          due += 1000 / fps;
        }
        yield image;
      }
      if (decoded === 0) throw new SourceError(`${this.options.path}: no image could be decoded`);
    } while (loop && !signal.aborted);
  }
}
