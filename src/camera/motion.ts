import type { RgbImage } from './frame.js';

const GRID_WIDTH = 80;
const GRID_HEIGHT = 60;
/** Brightness change (0-255) of a cell that counts as changed; above sensor noise. */
const CELL_DELTA = 24;

/**
 * A cheap motion detector: each frame is reduced to an 80x60 grid of brightness samples and
 * compared with the grid of the last frame that was analysed. It costs a few tens of
 * microseconds a frame, so the face model only runs when something in front of the door
 * changes.
 */
export class MotionGate {
  private reference: Uint8Array | undefined;
  private referenceSize = '';
  private latest: Uint8Array | undefined;
  private latestSize = '';

  /** @param threshold share of grid cells (0-1) that must change to count as motion */
  constructor(private readonly threshold: number) {}

  /**
   * Share of cells that differ from the reference frame (the last one accepted); 1 when there
   * is none yet or the frame size changed. Comparing with the last analysed frame rather than
   * the previous one lets a slow change add up until it is analysed.
   */
  measure(frame: RgbImage): number {
    this.latest = sampleGrid(frame);
    this.latestSize = `${frame.width}x${frame.height}`;
    const reference = this.reference;
    if (!reference || this.latestSize !== this.referenceSize) return 1;
    let changed = 0;
    for (let i = 0; i < reference.length; i++) {
      if (Math.abs(this.latest[i]! - reference[i]!) > CELL_DELTA) changed++;
    }
    return changed / reference.length;
  }

  /** True when the frame differs enough from the reference. */
  moved(frame: RgbImage): boolean {
    return this.measure(frame) > this.threshold;
  }

  /** Makes the last measured frame the reference (it is being analysed). */
  accept(): void {
    this.reference = this.latest;
    this.referenceSize = this.latestSize;
  }

  reset(): void {
    this.reference = undefined;
  }
}

/** Mean brightness of four points in each grid cell (integer luma approximation). */
function sampleGrid(frame: RgbImage): Uint8Array {
  const { width, height, data } = frame;
  const grid = new Uint8Array(GRID_WIDTH * GRID_HEIGHT);
  const cellW = width / GRID_WIDTH;
  const cellH = height / GRID_HEIGHT;
  for (let gy = 0; gy < GRID_HEIGHT; gy++) {
    for (let gx = 0; gx < GRID_WIDTH; gx++) {
      let sum = 0;
      for (const [fx, fy] of OFFSETS) {
        const x = Math.min(width - 1, Math.floor((gx + fx) * cellW));
        const y = Math.min(height - 1, Math.floor((gy + fy) * cellH));
        const i = (y * width + x) * 3;
        sum += (data[i]! * 77 + data[i + 1]! * 150 + data[i + 2]! * 29) >> 8;
      }
      grid[gy * GRID_WIDTH + gx] = sum >> 2;
    }
  }
  return grid;
}

const OFFSETS: readonly [number, number][] = [
  [0.25, 0.25],
  [0.75, 0.25],
  [0.25, 0.75],
  [0.75, 0.75],
];
