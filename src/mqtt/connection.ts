import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import mqtt, {
  type IClientOptions,
  type IClientPublishOptions,
  type IClientSubscribeOptions,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';
import type { Config } from '../config/schema.js';
import { PresenteError } from '../errors.js';
import type { Logger } from '../log.js';
import { softwareVersion } from '../paths.js';
import { type PresenceState, type StatusPayload, TOPIC_SPECS, type Topics } from './topics.js';

export interface ConnectionEvents {
  /** Connected (first time or again); `sessionPresent` says whether the broker kept our session. */
  online: [{ sessionPresent: boolean }];
  /** The connection was lost or could not be made. */
  offline: [];
  message: [topic: string, payload: Buffer, packet: IPublishPacket];
}

function readSecret(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PresenteError(`mqtt.${what}: cannot read ${file} (${code})`);
  }
}

export function statusPayload(state: PresenceState, terminalId: string): StatusPayload {
  return {
    state,
    terminal_id: terminalId,
    software_version: softwareVersion,
    at: new Date().toISOString(),
  };
}

/**
 * The mqtt.js options of a terminal: a persistent session named after the terminal, the
 * retained offline will, TLS files and credentials. Reconnection is ours (see MqttConnection),
 * so mqtt.js's fixed reconnect period is turned off.
 */
export function clientOptions(
  config: Config,
  topics: Topics,
  url = config.mqtt.url,
): IClientOptions {
  const m = config.mqtt;
  const options: IClientOptions = {
    clientId: `presente-${config.terminal.id}`,
    protocolVersion: m.protocol_version,
    clean: false,
    keepalive: m.keepalive_s,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    resubscribe: true,
    will: {
      topic: topics.status,
      payload: Buffer.from(JSON.stringify(statusPayload('offline', config.terminal.id))),
      qos: TOPIC_SPECS.status.qos,
      retain: TOPIC_SPECS.status.retain,
    },
  };
  if (m.protocol_version === 5) {
    options.properties = { sessionExpiryInterval: m.session_expiry_s };
  }
  if (m.username) options.username = m.username;
  if (m.password_file) {
    options.password = readSecret(m.password_file, 'password_file').toString('utf8').trim();
  } else if (m.password) {
    options.password = m.password;
  }
  if (url.startsWith('mqtts:')) {
    if (m.ca_file) options.ca = readSecret(m.ca_file, 'ca_file');
    if (m.cert_file) options.cert = readSecret(m.cert_file, 'cert_file');
    if (m.key_file) options.key = readSecret(m.key_file, 'key_file');
    options.rejectUnauthorized = true;
  }
  return options;
}

/** Delay before reconnect attempt `attempt` (0-based): doubling, capped, with jitter. */
export function backoffMs(attempt: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  // Half fixed, half random: terminals that lost the same broker do not return in step.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * One connection to the broker that keeps coming back. A broker that is down at boot or goes
 * away later is normal: the connection retries with backoff and jitter until stopped, and
 * says `online` again on every reconnect.
 */
export class MqttConnection extends EventEmitter<ConnectionEvents> {
  private client: MqttClient | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private readonly config: Config,
    private readonly topics: Topics,
    logger: Logger,
    private readonly url: string = config.mqtt.url,
  ) {
    super();
    this.log = logger;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get protocolVersion(): 4 | 5 {
    return this.config.mqtt.protocol_version;
  }

  start(): void {
    const options = clientOptions(this.config, this.topics, this.url);
    this.log.info(
      { url: redactUrl(this.url), clientId: options.clientId, protocol: options.protocolVersion },
      'connecting to broker',
    );
    const client = mqtt.connect(this.url, options);
    this.client = client;

    client.on('connect', (connack) => {
      this.attempt = 0;
      // Small QoS 1 packets and their PUBACKs otherwise wait on Nagle and delayed ACKs.
      (client.stream as Partial<Socket>).setNoDelay?.(true);
      this.log.info({ sessionPresent: connack.sessionPresent }, 'connected to broker');
      this.publishStatus('online').catch((err) =>
        this.log.warn({ err }, 'could not publish online status'),
      );
      this.emit('online', { sessionPresent: connack.sessionPresent });
    });
    client.on('message', (topic, payload, packet) => this.emit('message', topic, payload, packet));
    client.on('error', (err) => {
      this.log.debug({ err: err.message }, 'broker connection error');
    });
    client.on('close', () => {
      this.emit('offline');
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer) return;
    const m = this.config.mqtt;
    const delay = backoffMs(this.attempt++, m.reconnect_min_ms, m.reconnect_max_ms);
    this.log.info({ inMs: delay, attempt: this.attempt }, 'broker unreachable; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped && this.client && !this.client.connected) this.client.reconnect();
    }, delay);
  }

  /** Publishes; resolves once the broker acknowledges (QoS 1) or the packet is written. */
  publish(topic: string, payload: string | Buffer, options: IClientPublishOptions): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, options, (err) => (err ? reject(err) : resolve()));
    });
  }

  subscribe(topic: string, qos: 0 | 1 = 1): Promise<void> {
    return this.subscribeWith(topic, { qos });
  }

  async subscribeWith(topic: string, options: IClientSubscribeOptions): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('not connected');
    const granted = await client.subscribeAsync(topic, options);
    const refused = granted.find((g) => g.qos === 128);
    if (refused) throw new Error(`broker refused the subscription to ${topic}`);
  }

  publishStatus(state: PresenceState): Promise<void> {
    const spec = TOPIC_SPECS.status;
    const payload = JSON.stringify(statusPayload(state, this.config.terminal.id));
    return this.publish(this.topics.status, payload, { qos: spec.qos, retain: spec.retain });
  }

  /**
   * A clean goodbye: stopping, then offline (a clean disconnect sends no will), then the
   * DISCONNECT. Bounded in time so a dead broker cannot hold up the daemon's stop.
   */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
    const goodbye = async () => {
      if (client.connected) {
        await this.publishStatus('stopping');
        await this.publishStatus('offline');
      }
    };
    await withTimeout(goodbye(), timeoutMs).catch((err) =>
      this.log.warn({ err }, 'could not publish offline status'),
    );
    await withTimeout(client.endAsync(!client.connected), timeoutMs).catch(() => client.end(true));
    this.log.info('disconnected from broker');
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The URL without a password, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
