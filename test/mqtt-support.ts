import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { recordPunch } from '../src/attendance/recorder.js';
import { loadConfig } from '../src/config/load.js';
import { DaemonBus } from '../src/events.js';
import { silentLogger } from '../src/log.js';
import { createMqttModule } from '../src/mqtt/module.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { findUser, upsertUser } from '../src/store/users.js';
import { cleanEnv, cliEntry, root } from './helpers.js';
import { waitFor } from './mosquitto.js';

/** Config sections for a test terminal: short delays so tests do not wait for real backoff. */
export function writeConfig(
  dir: string,
  url: string,
  sections: Record<string, Record<string, unknown>> = {},
): string {
  const config = {
    terminal: { id: 'door-1', timezone: 'Europe/Madrid' },
    data: { dir: join(dir, 'data') },
    log: { level: 'warn', format: 'json' },
    ...sections,
    mqtt: {
      url,
      reconnect_min_ms: 100,
      reconnect_max_ms: 400,
      keepalive_s: 5,
      ...sections.mqtt,
    },
    outbox: { retry_min_ms: 1000, retry_max_ms: 3000, ...sections.outbox },
    heartbeat: { interval_s: 2, ...sections.heartbeat },
  };
  const file = join(dir, 'presente.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** A child process whose stdout lines can be awaited. */
export class Child {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly process: ChildProcess) {
    process.stdout!.on('data', (d) => {
      this.stdout += d;
    });
    process.stderr!.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      () => {
        if (!this.alive && !pattern.test(this.stdout)) {
          throw new Error(`process exited before ${pattern}: ${this.stderr.slice(-2000)}`);
        }
        return pattern.test(this.stdout);
      },
      `${pattern} from the child (stderr: ${this.stderr.slice(-500)})`,
      timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    this.process.kill(signal);
    await this.exited;
  }
}

function spawnTsx(args: string[]): Child {
  return new Child(
    spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: root,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** The test terminal (only the MQTT module) as its own process; resolves once it is up. */
export async function startTerminal(configFile: string, record = 0): Promise<Child> {
  const args = [join(root, 'test', 'mqtt-terminal.ts'), configFile];
  if (record > 0) args.push('--record', String(record));
  const child = spawnTsx(args);
  await child.waitForLine(/^ready$/m);
  return child;
}

/** `presente collect --json` as its own process. */
export function startCollect(configFile: string, dbFile: string, clientId = 'collector'): Child {
  return spawnTsx([
    cliEntry,
    'collect',
    '--config',
    configFile,
    '--db',
    dbFile,
    '--client-id',
    clientId,
    '--json',
  ]);
}

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
  json(): unknown;
}

/** An MQTT client that records everything it receives on its subscriptions. */
export class Observer {
  readonly messages: Received[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({
        topic,
        payload,
        packet,
        json: () => JSON.parse(payload.toString('utf8')),
      });
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<Observer> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 200,
      ...options,
    });
    return new Observer(client);
  }

  async subscribe(topic: string): Promise<void> {
    await this.client.subscribeAsync(topic, { qos: 1 });
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async waitFor(topic: string, predicate: (m: Received) => boolean, what: string) {
    await waitFor(() => this.on(topic).some(predicate), what, 30_000);
    return this.on(topic).find(predicate)!;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Validates attendance payloads against docs/attendance-event.schema.json. */
export function attendanceValidator() {
  const schema = JSON.parse(
    readFileSync(join(root, 'docs', 'attendance-event.schema.json'), 'utf8'),
  );
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  return (payload: unknown): string[] => {
    if (validate(payload)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

/** A terminal inside the test process: real database, real module, real broker. */
export async function inProcessTerminal(
  dir: string,
  url: string,
  sections: Record<string, Record<string, unknown>> = {},
) {
  const configFile = writeConfig(dir, url, sections);
  const { config } = loadConfig({ file: configFile, env: {} });
  const db = openDatabase(config.data.dir);
  migrate(db);
  upsertUser(db, { code: 'E001', name: 'Ada Lovelace' });
  const user = findUser(db, 'E001')!;
  const bus = new DaemonBus();
  const stops: string[] = [];
  const module = createMqttModule({
    config,
    logger: silentLogger(),
    db,
    bus,
    requestStop: (reason) => stops.push(reason),
  });
  const context = {
    terminalId: config.terminal.id,
    timeZone: config.terminal.timezone,
    modelVersion: 'test-model',
    clockSynced: () => true,
  };
  return {
    config,
    configFile,
    db,
    bus,
    module,
    topics: module.topics,
    record(count: number) {
      const events = [];
      for (let i = 0; i < count; i++) {
        const event = recordPunch(db, context, {
          userId: user.id,
          userCode: user.code,
          userName: user.name,
          kind: i % 2 === 0 ? 'check_in' : 'check_out',
          status: i % 3 === 0 ? 'late' : 'on_time',
          occurredAt: new Date(),
          shiftId: null,
          shiftName: null,
          shiftDay: null,
          distance: 0.3,
          camera: config.terminal.camera_name,
        });
        bus.emit('attendance', event);
        events.push(event);
      }
      return events;
    },
    async close() {
      await module.stop();
      db.close();
    },
  };
}
