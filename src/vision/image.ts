import { readFileSync, statSync } from 'node:fs';
import sharp from 'sharp';
import type { RgbImage } from '../camera/frame.js';
import type { FaceBox } from './protocol.js';

export interface ImageLimits {
  /** Largest file accepted (vision.max_image_bytes). */
  maxBytes: number;
  /** Largest width x height decoded (vision.max_image_pixels). */
  maxPixels: number;
}

/** An image file that cannot be used; the message names the file and says why. */
export class ImageError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ImageError';
  }
}

const FORMATS = new Set(['jpeg', 'png', 'webp']);

export function imageLimits(vision: {
  max_image_bytes: number;
  max_image_pixels: number;
}): ImageLimits {
  return { maxBytes: vision.max_image_bytes, maxPixels: vision.max_image_pixels };
}

/** Reads and decodes an image file; see decodeImage. */
export async function decodeImageFile(file: string, limits: ImageLimits): Promise<RgbImage> {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new ImageError(file, 'not a regular file');
    size = stat.size;
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (size === 0) throw new ImageError(file, 'the file is empty');
  if (size > limits.maxBytes) {
    throw new ImageError(
      file,
      `${size} bytes, more than vision.max_image_bytes (${limits.maxBytes})`,
    );
  }
  return decodeImage(readFileSync(file), limits, file);
}

/**
 * Decodes JPEG, PNG or WebP into packed RGB: EXIF orientation applied, alpha dropped, grey
 * expanded to three channels. The header is read first and an image larger than
 * maxPixels is refused before a single pixel is decoded.
 */
export async function decodeImage(
  bytes: Buffer,
  limits: ImageLimits,
  name = 'image',
): Promise<RgbImage> {
  let format: string | undefined;
  let pixels: number;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    format = meta.format;
    pixels = (meta.width ?? 0) * (meta.height ?? 0);
  } catch {
    throw new ImageError(name, 'not a JPEG, PNG or WebP image');
  }
  if (!format || !FORMATS.has(format)) {
    throw new ImageError(name, `${format ?? 'unknown'} images are not accepted (JPEG, PNG, WebP)`);
  }
  if (pixels > limits.maxPixels) {
    throw new ImageError(
      name,
      `${pixels} pixels, more than vision.max_image_pixels (${limits.maxPixels})`,
    );
  }

  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxPixels })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
    return { width: info.width, height: info.height, data };
  } catch (err) {
    throw new ImageError(name, `cannot decode it (${(err as Error).message.split('\n')[0]})`);
  }
}

/** The box rounded and clipped to the image; null when nothing of it is inside. */
export function clipBox(box: FaceBox, width: number, height: number): FaceBox | null {
  const x = Math.max(0, Math.floor(box.x));
  const y = Math.max(0, Math.floor(box.y));
  const right = Math.min(width, Math.ceil(box.x + box.width));
  const bottom = Math.min(height, Math.ceil(box.y + box.height));
  if (right - x < 2 || bottom - y < 2) return null;
  return { x, y, width: right - x, height: bottom - y };
}

/** Side of the square the face is scaled to before its sharpness is measured. */
const SHARPNESS_SIDE = 128;

/**
 * Sharpness of a face: the variance of the Laplacian of its grey crop, scaled to a fixed
 * size so a large face and a small one are judged alike. A blurred face scores low.
 */
export async function faceSharpness(image: RgbImage, box: FaceBox): Promise<number> {
  const clipped = clipBox(box, image.width, image.height);
  if (!clipped) return 0;

  const side = SHARPNESS_SIDE;
  const grey = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .extract({ left: clipped.x, top: clipped.y, width: clipped.width, height: clipped.height })
    .greyscale()
    .resize(side, side, { fit: 'fill' })
    .raw()
    .toBuffer();
  return laplacianVariance(grey, side, side);
}

/** Variance of the 4-neighbour Laplacian over the inner pixels of a grey image. */
export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const value =
        grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += value;
      sumSq += value * value;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}
