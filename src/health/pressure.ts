/**
 * Memory pressure: turns samples of RSS and heap-after-GC into a level and a decision. Pure
 * bookkeeping with no timers, so the rules can be tested with made-up samples and the monitor
 * owns the clock.
 */

export type PressureLevel = 'normal' | 'soft' | 'hard' | 'leak';

export interface PressureLimits {
  softLimitMb: number;
  hardLimitMb: number;
  /** How far back the trend looks. */
  trendWindowS: number;
  /** Growth of heap-after-GC or RSS, sustained over the whole window, that counts as a leak. */
  leakMbPerHour: number;
}

export interface MemoryPoint {
  /** Milliseconds on any monotonic clock. */
  atMs: number;
  rssMb: number;
  /** Heap in use right after the last full collection; null until one has happened. */
  heapAfterGcMb: number | null;
  /** V8's heap limit: a heap near it ends in a fatal out-of-memory, whatever the RSS. */
  heapUsedMb: number;
  heapLimitMb: number;
}

export interface PressureState {
  level: PressureLevel;
  /** Why the level is what it is, for the log and the alert. */
  reason: string;
  rssMb: number;
  /** Trends over the window; null until the samples span it. */
  rssSlopeMbPerHour: number | null;
  heapSlopeMbPerHour: number | null;
  /** Analyse one frame in this many: 1 normally, more while shedding work. */
  frameStride: number;
}

/** Share of the soft limit RSS must fall under before shedding stops, so it does not flap. */
const SOFT_RELEASE_RATIO = 0.9;
/** A heap this close to V8's limit is treated as the hard limit. */
const HEAP_LIMIT_RATIO = 0.9;
/** Frames analysed while shedding: one in this many. */
const SHED_STRIDE = 2;
/** The window counts as covered once samples span this share of it. */
const WINDOW_COVERED_RATIO = 0.9;

/** Least-squares slope of y over x; null with fewer than three points or no spread in x. */
export function slope(points: readonly { x: number; y: number }[]): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  let sumX = 0;
  let sumY = 0;
  for (const p of points) {
    sumX += p.x;
    sumY += p.y;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - meanX) * (p.y - meanY);
    den += (p.x - meanX) ** 2;
  }
  return den === 0 ? null : num / den;
}

/**
 * Keeps the samples of the trend window and decides the pressure level. The level is
 * `hard` or `leak` for good once reached: the daemon stops on either.
 */
export class PressureTracker {
  private points: MemoryPoint[] = [];
  private shedding = false;
  private final: PressureState | undefined;

  constructor(private readonly limits: PressureLimits) {}

  add(point: MemoryPoint): PressureState {
    this.points.push(point);
    const windowMs = this.limits.trendWindowS * 1000;
    while (this.points.length > 0 && point.atMs - this.points[0]!.atMs > windowMs) {
      this.points.shift();
    }
    const state = this.decide(point);
    if (state.level === 'hard' || state.level === 'leak') this.final ??= state;
    return this.final ?? state;
  }

  private decide(point: MemoryPoint): PressureState {
    const { softLimitMb, hardLimitMb, leakMbPerHour } = this.limits;
    // Before the window is covered a slope mostly measures startup (the model load).
    const covered = this.windowCovered();
    const rssSlope = covered ? this.trend((p) => p.rssMb) : null;
    const heapSlope = covered ? this.trend((p) => p.heapAfterGcMb) : null;
    const base = {
      rssMb: point.rssMb,
      rssSlopeMbPerHour: rssSlope,
      heapSlopeMbPerHour: heapSlope,
    };

    if (point.rssMb >= hardLimitMb) {
      return {
        ...base,
        level: 'hard',
        reason: `rss ${mb(point.rssMb)} MB ≥ hard limit`,
        frameStride: SHED_STRIDE,
      };
    }
    if (point.heapLimitMb > 0 && point.heapUsedMb >= point.heapLimitMb * HEAP_LIMIT_RATIO) {
      const reason = `heap ${mb(point.heapUsedMb)} of ${mb(point.heapLimitMb)} MB`;
      return { ...base, level: 'hard', reason, frameStride: SHED_STRIDE };
    }
    if (covered) {
      if (heapSlope !== null && heapSlope > leakMbPerHour) {
        const reason = `heap after gc grows ${mb(heapSlope)} MB/h`;
        return { ...base, level: 'leak', reason, frameStride: SHED_STRIDE };
      }
      if (rssSlope !== null && rssSlope > leakMbPerHour) {
        const reason = `rss grows ${mb(rssSlope)} MB/h`;
        return { ...base, level: 'leak', reason, frameStride: SHED_STRIDE };
      }
    }

    const release = softLimitMb * SOFT_RELEASE_RATIO;
    this.shedding = this.shedding ? point.rssMb >= release : point.rssMb >= softLimitMb;
    if (this.shedding) {
      return {
        ...base,
        level: 'soft',
        reason: `rss ${mb(point.rssMb)} MB ≥ soft limit`,
        frameStride: SHED_STRIDE,
      };
    }
    return { ...base, level: 'normal', reason: 'within limits', frameStride: 1 };
  }

  /** A trend only counts once the samples span (nearly) the whole window. */
  private windowCovered(): boolean {
    const first = this.points[0];
    const last = this.points.at(-1);
    if (!first || !last) return false;
    return last.atMs - first.atMs >= this.limits.trendWindowS * 1000 * WINDOW_COVERED_RATIO;
  }

  /** Slope in MB per hour of one figure over the window. */
  private trend(pick: (p: MemoryPoint) => number | null): number | null {
    const points: { x: number; y: number }[] = [];
    for (const p of this.points) {
      const y = pick(p);
      if (y !== null) points.push({ x: p.atMs / 3_600_000, y });
    }
    return slope(points);
  }
}

function mb(value: number): string {
  return value.toFixed(1);
}
