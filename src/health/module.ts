import type { AddressInfo } from 'node:net';
import type { Module, Runtime } from '../daemon.js';
import { ExitCode, PresenteError } from '../errors.js';
import type { Alert, AlertKind, CameraState } from '../events.js';
import type { Logger } from '../log.js';
import type { ClockProbe } from './clock.js';
import { type HeartbeatFigures, heartbeatFigures, unhealthyReasons } from './heartbeat.js';
import { HealthServer } from './http.js';
import { HealthMonitor, type HealthSample, type VisionProbe } from './monitor.js';
import type { PressureLevel } from './pressure.js';

export interface HealthModuleOptions {
  /** The vision engine, once the daemon has one; without it the model counts as not loaded. */
  vision?: VisionProbe | undefined;
  /** Analysis times measured by the frame loop; else those given to recordInference. */
  inference?: InferenceSource | undefined;
  /** Replaces the monotonic clock (tests). */
  now?: () => number;
  /** Where NTP synchronisation is read (tests). */
  clockProbe?: ClockProbe;
}

/** Analysis time percentiles from the frame loop (null before the first analysis). */
export type InferenceSource = () => { msP50: number | null; msP95: number | null } | null;

/** What the health module needs from the vision engine. */
export interface EngineLike {
  stats(): Promise<{ numTensors: number; numBytes: number; wasmBytes?: number }>;
}

/**
 * A probe for an engine whose models have loaded. A loaded model holds its weights as
 * tensors, so a count of zero means the inference worker has gone: the model is no longer
 * loaded, and /health says so.
 */
export function engineProbe(engine: EngineLike): VisionProbe {
  let workerAlive = true;
  return {
    loaded: () => workerAlive,
    async stats() {
      const stats = await engine.stats();
      workerAlive = stats.numTensors > 0;
      return stats;
    },
  };
}

/**
 * The health capability of the daemon: samples the monitor every `memory.sample_s`, acts on
 * memory pressure, raises and resolves alerts on the bus, serves /health and /metrics, and
 * hands the heartbeat figures to whoever publishes them.
 */
export class HealthModule implements Module {
  readonly name = 'health';
  readonly monitor: HealthMonitor;
  private readonly logger: Logger;
  private server: HealthServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private pressureLevel: PressureLevel = 'normal';
  private readonly raised = new Set<AlertKind>();
  /** Alerts in force, by kind: told again once frames flow (see onFirstFrame). */
  private readonly standing = new Map<AlertKind, Alert>();
  private stopRequested = false;
  private cameraSeverity: 'warning' | 'critical' | undefined;
  /** Where /health listens once started (port 0 in the config picks a free one). */
  address: AddressInfo | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: HealthModuleOptions = {},
  ) {
    this.logger = runtime.logger.child({ module: 'health' });
    this.monitor = new HealthMonitor({
      config: runtime.config,
      logger: this.logger,
      bus: runtime.bus,
      db: runtime.db,
      vision: options.vision,
      inference: options.inference,
      now: options.now,
      clockProbe: options.clockProbe,
    });
  }

  /** Sets the vision engine once it exists (it may be created after this module). */
  setVision(vision: VisionProbe): void {
    this.options.vision = vision;
    this.monitor.setVision(vision);
  }

  async start(signal: AbortSignal): Promise<void> {
    const { http, memory } = this.runtime.config;
    this.monitor.start();
    this.runtime.bus.on('camera', this.onCamera);
    this.runtime.bus.once('progress', this.onFirstFrame);
    await this.tick();
    if (signal.aborted) return;

    if (http.enabled) {
      this.server = new HealthServer(
        { figures: () => this.heartbeat(), reasons: () => this.reasons() },
        this.logger,
      );
      try {
        this.address = await this.server.listen(http.host, http.port);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new PresenteError(
          `health http on ${http.host}:${http.port}: cannot listen (${code}); ` +
            'set http.port to a free port or http.enabled to false',
          ExitCode.failure,
          { cause: err },
        );
      }
    }

    this.timer = setInterval(() => void this.tick(), memory.sample_s * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.runtime.bus.off('camera', this.onCamera);
    this.runtime.bus.off('progress', this.onFirstFrame);
    clearInterval(this.timer);
    await this.sampling;
    await this.server?.close();
    this.monitor.stop();
  }

  /** The heartbeat payload from the latest sample, or null before the first one. */
  heartbeat(): HeartbeatFigures | null {
    const sample = this.monitor.latest;
    return sample ? heartbeatFigures(this.runtime.config.terminal.id, sample) : null;
  }

  /** A one-line summary for `systemctl status`, or null before the first sample. */
  statusLine(): string | null {
    const figures = this.heartbeat();
    if (!figures) return null;
    const parts = [
      `camera ${this.monitor.cameraStateNow} ${figures.camera_fps} fps`,
      `rss ${Math.round(figures.rss_mb)} MB`,
      `${figures.outbox_pending ?? '?'} events pending`,
    ];
    if (figures.memory_pressure !== 'normal') parts.push(`memory ${figures.memory_pressure}`);
    return parts.join(', ');
  }

  /** Why the terminal is unhealthy now; model and camera are read live, the rest sampled. */
  reasons(): string[] {
    const sample = this.monitor.latest;
    if (!sample) return ['starting'];
    const live: HealthSample = {
      ...sample,
      vision: { ...sample.vision, loaded: this.options.vision?.loaded() ?? false },
      camera: { ...sample.camera, state: this.monitor.cameraStateNow },
    };
    return unhealthyReasons(live);
  }

  /** Whether punches can claim a synchronised clock: only when the system says so. */
  clockSynced(): boolean {
    return this.monitor.latest?.clockSynced === true;
  }

  /** Analyse one frame in this many; more than 1 while memory pressure sheds work. */
  frameStride(): number {
    return this.monitor.latest?.pressure.frameStride ?? 1;
  }

  /** Whether the frame loop should analyse the frame with this index. */
  shouldAnalyse(frameIndex: number): boolean {
    return frameIndex % this.frameStride() === 0;
  }

  /** Takes one sample and acts on it; never two at once. */
  tick(): Promise<void> {
    this.sampling ??= this.monitor
      .sample()
      .then((sample) => this.react(sample))
      .catch((err: unknown) => this.logger.error({ err }, 'health sample failed'))
      .finally(() => {
        this.sampling = undefined;
      });
    return this.sampling;
  }

  private react(sample: HealthSample): void {
    this.reactToPressure(sample);
    const { memory } = this.runtime.config;

    const diskLow = sample.diskFreeMb !== null && sample.diskFreeMb < memory.disk_min_free_mb;
    this.toggleAlert(diskLow, {
      kind: 'disk_low',
      severity: 'warning',
      message: `free disk in the data directory is ${Math.round(sample.diskFreeMb ?? 0)} MB`,
      details: { disk_free_mb: Math.round(sample.diskFreeMb ?? 0) },
    });

    // Only a clock the system says is unsynchronised alerts; "cannot tell" stays quiet.
    this.toggleAlert(sample.clockSynced === false, {
      kind: 'clock_unsynced',
      severity: 'warning',
      message: 'the system clock is not synchronised to NTP: punch times may be wrong',
    });

    // The outbox backlog alert belongs to the publisher, which sees every delivery.
    this.toggleAlert(!sample.dbWritable, {
      kind: 'database_error',
      severity: 'critical',
      message: 'the database is not writable: punches cannot be recorded',
    });
  }

  private reactToPressure(sample: HealthSample): void {
    const { pressure } = sample;
    const previous = this.pressureLevel;
    this.pressureLevel = pressure.level;
    const details = {
      rss_mb: Math.round(pressure.rssMb),
      soft_limit_mb: this.runtime.config.memory.soft_limit_mb,
      hard_limit_mb: this.runtime.config.memory.hard_limit_mb,
      frame_stride: pressure.frameStride,
    };

    if (pressure.level === 'hard' || pressure.level === 'leak') {
      if (this.stopRequested) return;
      this.stopRequested = true;
      this.logger.error(
        { pressure: pressure.level, reason: pressure.reason, ...details },
        'memory pressure: stopping so the supervisor restarts the daemon',
      );
      this.alert({
        kind: 'memory_pressure',
        severity: 'critical',
        message: `memory pressure (${pressure.level}): ${pressure.reason}; restarting`,
        details,
      });
      this.runtime.requestStop(`memory pressure: ${pressure.reason}`, ExitCode.memoryPressure);
      return;
    }
    if (pressure.level === 'soft' && previous !== 'soft') {
      this.logger.warn({ reason: pressure.reason, ...details }, 'memory pressure: shedding work');
      this.alert({
        kind: 'memory_pressure',
        severity: 'warning',
        message:
          `memory pressure: ${pressure.reason}; ` + `analysing 1 frame in ${pressure.frameStride}`,
        details,
      });
    }
    if (pressure.level === 'normal' && previous === 'soft') {
      this.logger.info(details, 'memory pressure over');
      this.alert({
        kind: 'memory_pressure',
        severity: 'resolved',
        message: 'memory back under the soft limit',
        details,
      });
    }
  }

  /** Camera trouble: a warning while the source restarts, critical once it gave up. */
  private readonly onCamera = (state: CameraState): void => {
    if (state === 'stalled' || state === 'restarting' || state === 'failed') {
      const severity = state === 'failed' ? 'critical' : 'warning';
      if (this.cameraSeverity === severity || this.cameraSeverity === 'critical') return;
      this.cameraSeverity = severity;
      this.raised.add('camera_down');
      const message =
        state === 'failed'
          ? 'the camera failed and is not retried: check the device and restart the daemon'
          : `the camera is ${state}: no frames, no punches`;
      this.logger.warn({ state }, message);
      this.alert({ kind: 'camera_down', severity, message, details: { camera_state: state } });
    } else if (state === 'streaming' && this.raised.delete('camera_down')) {
      this.cameraSeverity = undefined;
      this.alert({
        kind: 'camera_down',
        severity: 'resolved',
        message: 'the camera streams again',
      });
    }
  };

  /** Raises an alert when the condition starts and resolves it when it ends. */
  private toggleAlert(active: boolean, alert: Alert): void {
    if (active && !this.raised.has(alert.kind)) {
      this.raised.add(alert.kind);
      this.logger.warn({ kind: alert.kind, ...alert.details }, alert.message);
      this.alert(alert);
    } else if (!active && this.raised.has(alert.kind)) {
      this.raised.delete(alert.kind);
      this.alert({ kind: alert.kind, severity: 'resolved', message: `${alert.kind} resolved` });
    }
  }

  private alert(alert: Alert): void {
    if (alert.severity === 'resolved') this.standing.delete(alert.kind);
    else this.standing.set(alert.kind, alert);
    this.runtime.bus.emit('alert', alert);
  }

  /**
   * Health starts before MQTT, so an alert raised during startup (a full disk at boot) was
   * only logged. The first frame means every module before the camera has started: the
   * alerts still in force are told again, once.
   */
  private readonly onFirstFrame = (): void => {
    for (const alert of this.standing.values()) this.runtime.bus.emit('alert', alert);
  };
}
