import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A real Mosquitto for tests: its own config file, persistence on, in a temp dir, on a free
 * port. It can be killed with SIGKILL and started again on the same port and data, like a
 * broker host that loses power.
 *
 *   const broker = await Mosquitto.start();
 *   ... broker.url ...
 *   await broker.kill(); await broker.restart();
 *   await broker.stop();   // also removes the temp dir
 */

export interface MosquittoTls {
  /** PEM files: the CA that signed both sides, the server certificate and key. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Clients must present a certificate signed by the CA. */
  requireCertificate?: boolean;
}

export interface MosquittoOptions {
  tls?: MosquittoTls;
  /** Seconds between saves of the persistence file (mosquitto's autosave_interval). */
  autosaveIntervalS?: number;
  /** Extra lines for mosquitto.conf. */
  extra?: string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` every `everyMs` until it is true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly configFile: string,
    readonly tls: boolean,
  ) {}

  /** Writes the config and starts the broker. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const broker = await Mosquitto.create(options);
    await broker.restart();
    return broker;
  }

  /** Writes the config on a free port without starting: for a broker that is down at first. */
  static async create(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'presente-mosquitto-'));
    const port = await freePort();
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const tls = options.tls;
    const lines = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      ...(tls
        ? [
            `cafile ${tls.caFile}`,
            `certfile ${tls.certFile}`,
            `keyfile ${tls.keyFile}`,
            `require_certificate ${tls.requireCertificate === false ? 'false' : 'true'}`,
          ]
        : []),
      'persistence true',
      `persistence_location ${dataDir}/`,
      `autosave_interval ${options.autosaveIntervalS ?? 1}`,
      // Tests queue thousands of events for an offline subscriber; the default keeps 1000.
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      // Run as whoever runs the tests, so the broker can write its temp dir.
      `user ${userInfo().username}`,
      ...(options.extra ?? []),
    ];
    const configFile = join(dir, 'mosquitto.conf');
    writeFileSync(configFile, `${lines.join('\n')}\n`);
    return new Mosquitto(port, dir, configFile, tls !== undefined);
  }

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** What the broker wrote to stderr (errors and warnings), for failing assertions. */
  get output(): string {
    return this.log;
  }

  /** Starts the broker (again) on the same port and persistence; resolves once it listens. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('mosquitto is already running');
    const child = spawn('mosquitto', ['-c', this.configFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr!.on('data', (d) => {
      this.log += d;
    });
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`mosquitto exited with ${child.exitCode}: ${this.log}`);
        }
        return portOpen(this.port);
      },
      `mosquitto on port ${this.port}`,
      10_000,
      25,
    );
  }

  /** SIGKILL: no clean shutdown, no final save of the persistence file. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: a clean shutdown that saves the persistence file; start it again with restart. */
  async terminate(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Stops the broker for good and removes its temp dir. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
