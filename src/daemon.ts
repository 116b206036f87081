import type { Config } from './config/schema.js';
import { ExitCode, type ExitCodeValue, errorMessage } from './errors.js';
import { DaemonBus } from './events.js';
import type { Logger } from './log.js';
import type { Db } from './store/db.js';

/** One capability of the running terminal (camera, vision, mqtt, health, jobs, ...). */
export interface Module {
  name: string;
  /** Starts the module; `signal` aborts when the daemon is asked to stop during startup. */
  start(signal: AbortSignal): Promise<void>;
  /** Stops the module; called once, in reverse start order, even if start failed midway. */
  stop(): Promise<void>;
}

/** What every module gets: passed in, never read from a global. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  bus: DaemonBus;
  /** Asks the daemon to stop with this exit code (used by memory pressure). */
  requestStop(reason: string, exitCode: ExitCodeValue): void;
}

export interface DaemonOptions {
  /** The longest a graceful stop may take before the process exits anyway. */
  stopTimeoutMs?: number;
}

/**
 * Owns start and stop order. Modules start in the order added and stop in reverse; a failure
 * while stopping one module is logged and the others still stop.
 */
export class Daemon {
  readonly bus = new DaemonBus();
  private readonly modules: Module[] = [];
  private readonly started: Module[] = [];
  private readonly abort = new AbortController();
  private stopping: Promise<ExitCodeValue> | undefined;
  private exitCode: ExitCodeValue = ExitCode.ok;
  private resolveDone!: (code: ExitCodeValue) => void;
  /** Resolves with the exit code once the daemon has stopped. */
  readonly done: Promise<ExitCodeValue> = new Promise((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(
    private readonly logger: Logger,
    private readonly options: DaemonOptions = {},
  ) {}

  add(module: Module): this {
    this.modules.push(module);
    return this;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  async start(): Promise<void> {
    for (const module of this.modules) {
      if (this.abort.signal.aborted) return;
      const began = performance.now();
      this.started.push(module);
      await module.start(this.abort.signal);
      this.logger.debug(
        { module: module.name, ms: Math.round(performance.now() - began) },
        'started',
      );
    }
  }

  /** Stops everything once; later calls share the first stop. */
  stop(reason: string, exitCode: ExitCodeValue = ExitCode.ok): Promise<ExitCodeValue> {
    if (this.stopping) return this.stopping;
    this.exitCode = exitCode;
    this.abort.abort();
    this.logger.info({ reason, exitCode }, 'stopping');
    const timeoutMs = this.options.stopTimeoutMs ?? 15_000;

    const stopAll = async () => {
      for (const module of [...this.started].reverse()) {
        try {
          await module.stop();
        } catch (err) {
          this.logger.error({ module: module.name, err }, 'module failed to stop cleanly');
        }
      }
    };

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });

    this.stopping = Promise.race([stopAll().then(() => 'done' as const), timeout]).then(
      (outcome) => {
        clearTimeout(timer);
        if (outcome === 'timeout') {
          this.logger.error({ timeoutMs }, 'stop timed out; exiting anyway');
          if (this.exitCode === ExitCode.ok) this.exitCode = ExitCode.failure;
        } else {
          this.logger.info({ exitCode: this.exitCode }, 'stopped');
        }
        this.resolveDone(this.exitCode);
        return this.exitCode;
      },
    );
    return this.stopping;
  }

  /**
   * SIGTERM and SIGINT stop gracefully; a second signal exits at once. Returns a function
   * that removes the handlers.
   */
  handleSignals(): () => void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) {
        this.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(ExitCode.failure);
      }
      void this.stop(`signal ${signal}`);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }
}

export function describeFailure(err: unknown): string {
  return errorMessage(err);
}
