import { createRequire } from 'node:module';
import type { Logger } from '../log.js';

/**
 * The systemd notify protocol (sd_notify): newline-separated `KEY=VALUE` datagrams sent to the
 * unix datagram socket named by NOTIFY_SOCKET.
 *
 * Node has no unix datagram sockets, so this uses the small native `unix-dgram` addon. The
 * alternatives do not hold up: `systemd-notify` runs as a child process, so the message comes
 * from a PID that is neither the main PID nor alive by the time systemd looks it up (systemd
 * then drops READY=1 or WATCHDOG=1 under NotifyAccess=main); a python or socat helper has the
 * same flaw and adds a runtime dependency to the image. The addon sends from this process.
 */

/** What the daemon needs from a datagram socket; tests can bind a real one to read. */
interface DatagramSocket {
  on(event: 'error', listener: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  close(): void;
}

interface UnixDgram {
  createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): DatagramSocket;
}

const require = createRequire(import.meta.url);

function loadUnixDgram(): UnixDgram {
  return require('unix-dgram') as UnixDgram;
}

export interface NotifyEnv {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

/** Sends sd_notify messages; every method is a no-op when not run by systemd. */
export class SystemdNotifier {
  private socket: DatagramSocket | undefined;

  private constructor(
    private readonly path: string,
    /** How often systemd expects WATCHDOG=1, or null when the unit has no WatchdogSec=. */
    readonly watchdogUsec: number | null,
    private readonly logger: Logger,
  ) {}

  /**
   * A notifier for the socket in the environment, or null when there is none. Abstract socket
   * names (starting with `@`) are not supported by the addon: logged, and notify is off.
   */
  static fromEnv(env: NotifyEnv, logger: Logger, pid = process.pid): SystemdNotifier | null {
    const path = env.NOTIFY_SOCKET;
    if (!path) return null;
    if (path.startsWith('@')) {
      logger.warn({ path }, 'abstract NOTIFY_SOCKET is not supported; systemd notify is off');
      return null;
    }
    const usec = Number(env.WATCHDOG_USEC);
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === pid;
    const watchdogUsec = Number.isFinite(usec) && usec > 0 && forUs ? usec : null;
    return new SystemdNotifier(path, watchdogUsec, logger);
  }

  /** Sends one message; failures are logged, never thrown: the daemon works without systemd. */
  send(fields: Record<string, string | number>): Promise<boolean> {
    const text = Object.entries(fields)
      .map(([key, value]) => `${key}=${String(value).replaceAll('\n', ' ')}`)
      .join('\n');
    const buf = Buffer.from(text);
    return new Promise((resolve) => {
      try {
        this.socket ??= this.open();
        this.socket.send(buf, 0, buf.length, this.path, (err) => {
          if (err) this.logger.warn({ err, path: this.path }, 'systemd notify failed');
          resolve(!err);
        });
      } catch (err) {
        this.logger.warn({ err, path: this.path }, 'systemd notify failed');
        resolve(false);
      }
    });
  }

  ready(status: string): Promise<boolean> {
    return this.send({ READY: 1, STATUS: status });
  }

  stopping(status: string): Promise<boolean> {
    return this.send({ STOPPING: 1, STATUS: status });
  }

  status(status: string): Promise<boolean> {
    return this.send({ STATUS: status });
  }

  watchdog(): Promise<boolean> {
    return this.send({ WATCHDOG: 1 });
  }

  close(): void {
    try {
      this.socket?.close();
    } catch (err) {
      this.logger.debug({ err }, 'closing the notify socket failed');
    }
    this.socket = undefined;
  }

  private open(): DatagramSocket {
    const socket = loadUnixDgram().createSocket('unix_dgram');
    socket.on('error', (err) => this.logger.warn({ err }, 'systemd notify socket error'));
    return socket;
  }
}

/**
 * Feeds the systemd watchdog from frame-loop progress, never from a timer: each `progress()`
 * call sends WATCHDOG=1 if the last ping is older than a third of the watchdog interval. When
 * the loop stalls the pings stop, and systemd restarts the daemon after WatchdogSec=.
 */
export class WatchdogFeeder {
  private lastPingMs = Number.NEGATIVE_INFINITY;
  private active = false;
  pings = 0;

  constructor(
    private readonly notifier: SystemdNotifier,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.notifier.watchdogUsec !== null;
  }

  /** Pings start only once the daemon has told systemd it is ready. */
  start(): void {
    this.active = this.enabled;
  }

  stop(): void {
    this.active = false;
  }

  progress(): void {
    if (!this.active || this.notifier.watchdogUsec === null) return;
    const minGapMs = this.notifier.watchdogUsec / 1000 / 3;
    const now = this.now();
    if (now - this.lastPingMs < minGapMs) return;
    this.lastPingMs = now;
    this.pings += 1;
    void this.notifier.watchdog();
  }
}
