import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import type { RgbImage } from './frame.js';

/**
 * Decodes a still image (JPEG, PNG, WebP, ...) into a frame of exactly width x height: scaled
 * to fit and padded with black, like the ffmpeg sources, so the motion gate and the tracker
 * see frames of one size.
 */
export async function decodeStill(
  input: string | Buffer,
  width: number,
  height: number,
): Promise<RgbImage> {
  const { data, info } = await sharp(input, { failOn: 'error' })
    .rotate()
    .removeAlpha()
    .resize(width, height, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** Waits until `untilMs` (performance.now() time); resolves early when aborted. */
export async function waitUntil(untilMs: number, signal: AbortSignal): Promise<void> {
  const delay = untilMs - performance.now();
  if (delay <= 0 || signal.aborted) return;
  await sleep(delay, undefined, { signal }).catch(() => undefined);
}
