import type { Module, Runtime } from '../daemon.js';
import type { CameraState } from '../events.js';
import type { Logger } from '../log.js';
import { type NotifyEnv, SystemdNotifier, WatchdogFeeder } from './notify.js';

export interface SystemdModuleOptions {
  env?: NotifyEnv;
  /** Wait for the camera to stream (or the first frame) before READY=1. */
  waitForCamera?: boolean;
  /** The camera state as last seen, e.g. by the health monitor, which starts earlier. */
  cameraState?: () => CameraState | 'unknown';
  /** A one-line summary for `systemctl status`, sent as STATUS= every `statusEveryMs`. */
  statusLine?: () => string | null;
  statusEveryMs?: number;
  /** Replaces the monotonic clock of the watchdog (tests). */
  now?: () => number;
}

/**
 * Tells systemd how the daemon is doing. Added last, so its start runs once models, database
 * and camera are up: READY=1 then. It stops first, so STOPPING=1 goes out before anything
 * else closes. WATCHDOG=1 follows frame-loop progress only: frames handled, or restarts of a
 * failing camera scheduled by its supervisor; never a bare timer.
 */
export class SystemdModule implements Module {
  readonly name = 'systemd';
  readonly notifier: SystemdNotifier | null;
  readonly watchdog: WatchdogFeeder | null;
  private readonly logger: Logger;
  private readonly onProgress = () => this.watchdog?.progress();
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: SystemdModuleOptions = {},
  ) {
    this.logger = runtime.logger.child({ module: 'systemd' });
    this.notifier = SystemdNotifier.fromEnv(options.env ?? process.env, this.logger);
    this.watchdog = this.notifier ? new WatchdogFeeder(this.notifier, options.now) : null;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!this.notifier) return;
    const streaming = this.options.cameraState?.() === 'streaming';
    if ((this.options.waitForCamera ?? true) && !streaming) {
      await this.notifier.status('waiting for the camera');
      await cameraUp(this.runtime, signal);
      if (signal.aborted) return;
    }
    this.runtime.bus.on('progress', this.onProgress);
    this.runtime.bus.on('camera_retry', this.onProgress);
    this.watchdog?.start();
    await this.notifier.ready(this.options.statusLine?.() ?? 'running');
    const { statusLine, statusEveryMs } = this.options;
    if (statusLine && statusEveryMs) {
      this.statusTimer = setInterval(() => {
        const line = statusLine();
        if (line) void this.notifier?.status(line);
      }, statusEveryMs);
      this.statusTimer.unref();
    }
    this.logger.info(
      {
        watchdogMs: this.notifier.watchdogUsec === null ? null : this.notifier.watchdogUsec / 1000,
      },
      'told systemd the daemon is ready',
    );
  }

  async stop(): Promise<void> {
    if (!this.notifier) return;
    clearInterval(this.statusTimer);
    this.watchdog?.stop();
    this.runtime.bus.off('progress', this.onProgress);
    this.runtime.bus.off('camera_retry', this.onProgress);
    await this.notifier.stopping('stopping');
    this.notifier.close();
  }
}

/** Resolves when the camera streams or a frame has been handled, or when startup aborts. */
function cameraUp(runtime: Runtime, signal: AbortSignal): Promise<void> {
  const { bus } = runtime;
  return new Promise((resolve) => {
    const done = () => {
      bus.off('camera', onCamera);
      bus.off('progress', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const onCamera = (state: CameraState) => {
      if (state === 'streaming') done();
    };
    bus.on('camera', onCamera);
    bus.on('progress', done);
    signal.addEventListener('abort', done);
  });
}
