/** An image as packed 8-bit RGB, row by row: data.length === width * height * 3. */
export interface RgbImage {
  width: number;
  height: number;
  data: Buffer;
}

/** One frame from a camera source. */
export interface Frame extends RgbImage {
  /** Wall-clock time the frame was captured (ms since the Unix epoch). */
  timestamp: number;
  /** Position in the source, counting from 0. */
  index: number;
}
