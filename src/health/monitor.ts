import { readFileSync, statfsSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import {
  constants,
  type IntervalHistogram,
  monitorEventLoopDelay,
  type PerformanceEntry,
  PerformanceObserver,
} from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Config } from '../config/schema.js';
import type { CameraState, DaemonBus } from '../events.js';
import type { Logger } from '../log.js';
import { lastAttendanceAt } from '../store/attendance.js';
import { DATABASE_FILE, type Db, immediate } from '../store/db.js';
import { pendingCount } from '../store/outbox.js';
import { type ClockProbe, ClockWatch } from './clock.js';
import { type PressureState, PressureTracker } from './pressure.js';
import { Percentiles } from './stats.js';
import { softwareVersions, type Versions } from './versions.js';

const MB = 1024 * 1024;

/** What the vision engine tells about TensorFlow.js; the engine lives in another module. */
export interface VisionProbe {
  /** The models are loaded and the engine can analyse frames. */
  loaded(): boolean;
  stats(): Promise<{ numTensors: number; numBytes: number; wasmBytes?: number }>;
}

export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb';

export interface HealthSample {
  at: string;
  uptimeS: number;
  memory: {
    rssMb: number;
    heapUsedMb: number;
    heapTotalMb: number;
    heapLimitMb: number;
    externalMb: number;
    arrayBuffersMb: number;
    /** Heap in use after the last full (mark-sweep) collection. */
    heapAfterGcMb: number | null;
  };
  gc: {
    count: number;
    pauseMsTotal: number;
    pauseMsP99: number | null;
    byKind: Record<GcKind, { count: number; pauseMs: number }>;
  };
  loop: { delayMsP50: number; delayMsP99: number };
  vision: {
    loaded: boolean;
    tensors: number | null;
    tensorMb: number | null;
    wasmMb: number | null;
  };
  system: {
    cpuPercent: number;
    load1: number;
    temperatureC: number | null;
    throttled: boolean | null;
  };
  diskFreeMb: number | null;
  dbSizeMb: number | null;
  dbWritable: boolean;
  outboxPending: number | null;
  camera: { state: CameraState | 'unknown'; fps: number };
  inference: { msP50: number | null; msP95: number | null };
  /** The latest punch in the database (UTC). */
  lastAttendanceAt: string | null;
  /** NTP synchronisation: null when the system cannot tell. */
  clockSynced: boolean | null;
  versions: Versions;
  pressure: PressureState;
}

export interface MonitorOptions {
  config: Config;
  logger: Logger;
  bus: DaemonBus;
  db: Db;
  vision?: VisionProbe | undefined;
  /** Analysis times from the frame loop; when absent, those given to recordInference. */
  inference?: (() => { msP50: number | null; msP95: number | null } | null) | undefined;
  /** Monotonic clock in ms, replaceable in tests. */
  now?: () => number;
  /** How NTP synchronisation is read (tests give their own files and commands). */
  clockProbe?: ClockProbe;
}

const GC_KINDS: Record<number, GcKind> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Sampling step of the event-loop delay histogram. */
const LOOP_RESOLUTION_MS = 10;
/** Temperature is read through systeminformation, which can be slow: at most this often. */
const TEMPERATURE_EVERY_MS = 60_000;
/** The Raspberry Pi firmware reports under-voltage and throttling here, as a bit field. */
const PI_THROTTLED_FILE = '/sys/devices/platform/soc/soc:firmware/get_throttled';

/**
 * Watches the process and the terminal: collects figures continuously (GC, loop delay, frame
 * progress, inference times) and takes a sample on demand. Sampling is driven by the caller,
 * so tests and the soak benchmark can sample at chosen moments.
 */
export class HealthMonitor {
  private readonly startedMs: number;
  private readonly now: () => number;
  private readonly pressure: PressureTracker;
  private readonly gcPauses = new Percentiles(1024);
  private readonly inferenceMs = new Percentiles(512);
  private readonly gcByKind: HealthSample['gc']['byKind'] = {
    minor: { count: 0, pauseMs: 0 },
    major: { count: 0, pauseMs: 0 },
    incremental: { count: 0, pauseMs: 0 },
    weakcb: { count: 0, pauseMs: 0 },
  };
  private heapAfterGcMb: number | null = null;
  private gcObserver: PerformanceObserver | undefined;
  private loopDelay: IntervalHistogram | undefined;
  private cameraState: CameraState | 'unknown' = 'unknown';
  private framesSinceSample = 0;
  private lastSampleMs: number;
  private lastCpu = process.cpuUsage();
  private lastAttendanceAt: string | null = null;
  private readonly clock: ClockWatch;
  private temperature: { atMs: number; celsius: number | null } | undefined;
  private readonly detach: (() => void)[] = [];
  latest: HealthSample | undefined;

  constructor(private readonly options: MonitorOptions) {
    this.now = options.now ?? (() => performance.now());
    this.clock = new ClockWatch(options.clockProbe);
    this.startedMs = this.now();
    this.lastSampleMs = this.startedMs;
    const { memory } = options.config;
    this.pressure = new PressureTracker({
      softLimitMb: memory.soft_limit_mb,
      hardLimitMb: memory.hard_limit_mb,
      trendWindowS: memory.trend_window_s,
      leakMbPerHour: memory.leak_mb_per_hour,
    });
  }

  /** Starts collecting: GC entries, event-loop delay, bus events. */
  start(): void {
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.onGc(entry);
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loopDelay.enable();

    const { bus } = this.options;
    const onCamera = (state: CameraState) => {
      this.cameraState = state;
    };
    const onProgress = () => {
      this.framesSinceSample += 1;
    };
    const onAttendance = (event: { occurred_at: string }) => {
      this.lastAttendanceAt = new Date(event.occurred_at).toISOString();
    };
    try {
      this.lastAttendanceAt = lastAttendanceAt(this.options.db);
    } catch (err) {
      this.options.logger.debug({ err }, 'no attendance table yet');
    }
    bus.on('camera', onCamera);
    bus.on('progress', onProgress);
    bus.on('attendance', onAttendance);
    this.detach.push(
      () => bus.off('camera', onCamera),
      () => bus.off('progress', onProgress),
      () => bus.off('attendance', onAttendance),
    );
  }

  stop(): void {
    this.gcObserver?.disconnect();
    this.loopDelay?.disable();
    for (const off of this.detach.splice(0)) off();
  }

  setVision(vision: VisionProbe): void {
    this.options.vision = vision;
  }

  /** The frame loop reports how long one analysis took. */
  recordInference(ms: number): void {
    this.inferenceMs.add(ms);
  }

  get cameraStateNow(): CameraState | 'unknown' {
    return this.cameraState;
  }

  /** Takes a sample of everything; cheap enough to run every few seconds. */
  async sample(): Promise<HealthSample> {
    const nowMs = this.now();
    const elapsedS = Math.max((nowMs - this.lastSampleMs) / 1000, 1e-3);
    const memory = process.memoryUsage();
    const heap = getHeapStatistics();
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();

    const memoryFigures = {
      rssMb: memory.rss / MB,
      heapUsedMb: memory.heapUsed / MB,
      heapTotalMb: memory.heapTotal / MB,
      heapLimitMb: heap.heap_size_limit / MB,
      externalMb: memory.external / MB,
      arrayBuffersMb: memory.arrayBuffers / MB,
      heapAfterGcMb: this.heapAfterGcMb,
    };
    const pressure = this.pressure.add({
      atMs: nowMs,
      rssMb: memoryFigures.rssMb,
      heapAfterGcMb: this.heapAfterGcMb,
      heapUsedMb: memoryFigures.heapUsedMb,
      heapLimitMb: memoryFigures.heapLimitMb,
    });

    const sample: HealthSample = {
      at: new Date().toISOString(),
      uptimeS: (nowMs - this.startedMs) / 1000,
      memory: memoryFigures,
      gc: {
        count: Object.values(this.gcByKind).reduce((n, k) => n + k.count, 0),
        pauseMsTotal: Object.values(this.gcByKind).reduce((n, k) => n + k.pauseMs, 0),
        pauseMsP99: this.gcPauses.percentile(99),
        byKind: structuredClone(this.gcByKind),
      },
      loop: this.readLoopDelay(),
      vision: await this.visionFigures(),
      system: {
        cpuPercent: ((cpu.user + cpu.system) / 1000 / (elapsedS * 1000)) * 100,
        load1: loadavg()[0] ?? 0,
        temperatureC: await this.temperatureC(nowMs),
        throttled: readThrottled(),
      },
      diskFreeMb: this.diskFreeMb(),
      dbSizeMb: this.dbSizeMb(),
      dbWritable: this.dbWritable(),
      outboxPending: this.outboxPending(),
      camera: { state: this.cameraState, fps: this.framesSinceSample / elapsedS },
      inference: this.inferenceFigures(),
      lastAttendanceAt: this.lastAttendanceAt,
      clockSynced: await this.clock.refresh(nowMs),
      versions: softwareVersions(),
      pressure,
    };
    this.framesSinceSample = 0;
    this.lastSampleMs = nowMs;
    this.latest = sample;
    return sample;
  }

  private onGc(entry: PerformanceEntry): void {
    const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
    const kind = GC_KINDS[detail?.kind ?? -1] ?? 'major';
    const figures = this.gcByKind[kind];
    figures.count += 1;
    figures.pauseMs += entry.duration;
    this.gcPauses.add(entry.duration);
    // The observer runs shortly after the collection, so this is close to the live heap.
    if (kind === 'major') this.heapAfterGcMb = process.memoryUsage().heapUsed / MB;
  }

  private inferenceFigures(): HealthSample['inference'] {
    const fromLoop = this.options.inference?.();
    if (fromLoop) return fromLoop;
    return { msP50: this.inferenceMs.percentile(50), msP95: this.inferenceMs.percentile(95) };
  }

  private readLoopDelay(): HealthSample['loop'] {
    const histogram = this.loopDelay;
    if (!histogram || histogram.count === 0) return { delayMsP50: 0, delayMsP99: 0 };
    // Node reports the interval between timer wake-ups, not the lateness: take the
    // resolution off so an idle loop reads 0.
    const late = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
    const figures = {
      delayMsP50: late(histogram.percentile(50)),
      delayMsP99: late(histogram.percentile(99)),
    };
    histogram.reset();
    return figures;
  }

  private async visionFigures(): Promise<HealthSample['vision']> {
    const vision = this.options.vision;
    if (!vision?.loaded()) {
      return { loaded: false, tensors: null, tensorMb: null, wasmMb: null };
    }
    try {
      const stats = await vision.stats();
      return {
        loaded: true,
        tensors: stats.numTensors,
        tensorMb: stats.numBytes / MB,
        wasmMb: stats.wasmBytes === undefined ? null : stats.wasmBytes / MB,
      };
    } catch (err) {
      this.options.logger.warn({ err }, 'vision stats unavailable');
      return { loaded: true, tensors: null, tensorMb: null, wasmMb: null };
    }
  }

  private async temperatureC(nowMs: number): Promise<number | null> {
    if (this.temperature && nowMs - this.temperature.atMs < TEMPERATURE_EVERY_MS) {
      return this.temperature.celsius;
    }
    let celsius: number | null = null;
    try {
      const si = await import('systeminformation');
      const reading = await si.cpuTemperature();
      celsius = typeof reading.main === 'number' ? reading.main : null;
    } catch (err) {
      this.options.logger.debug({ err }, 'no cpu temperature');
    }
    this.temperature = { atMs: nowMs, celsius };
    return celsius;
  }

  private dataDir(): string {
    return resolve(this.options.config.data.dir);
  }

  private diskFreeMb(): number | null {
    return diskFreeMb(this.dataDir());
  }

  private dbSizeMb(): number | null {
    return databaseSizeMb(this.dataDir());
  }

  /** Takes the write lock and releases it: fails on a read-only file, disk or mount. */
  private dbWritable(): boolean {
    try {
      immediate(this.options.db, () => undefined);
      return true;
    } catch (err) {
      this.options.logger.error({ err }, 'database is not writable');
      return false;
    }
  }

  private outboxPending(): number | null {
    try {
      return pendingCount(this.options.db);
    } catch (err) {
      this.options.logger.warn({ err }, 'cannot count the outbox');
      return null;
    }
  }
}

/** Free space for this user in the file system holding `dir`, or null if unknown. */
export function diskFreeMb(dir: string): number | null {
  try {
    const fs = statfsSync(dir);
    return (fs.bavail * fs.bsize) / MB;
  } catch {
    return null;
  }
}

/** The database file with its write-ahead log, or null when there is no database yet. */
export function databaseSizeMb(dataDir: string): number | null {
  const file = join(dataDir, DATABASE_FILE);
  let bytes = 0;
  for (const suffix of ['', '-wal']) {
    try {
      bytes += statSync(file + suffix).size;
    } catch {
      if (suffix === '') return null;
    }
  }
  return bytes / MB;
}

function readThrottled(): boolean | null {
  try {
    const value = Number.parseInt(readFileSync(PI_THROTTLED_FILE, 'utf8').trim(), 16);
    // Bits 1 to 3: capped, throttled or at the soft temperature limit now (higher bits:
    // "has been").
    return Number.isFinite(value) ? (value & 0b1110) !== 0 : null;
  } catch {
    return null;
  }
}
