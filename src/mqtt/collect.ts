import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { insertCollected } from '../store/collector.js';
import type { Db } from '../store/db.js';
import { backoffMs, clientOptions } from './connection.js';
import { type AckPayload, centralTopics, TOPIC_SPECS, terminalTopics } from './topics.js';

/** The fields the collector needs to store an event; the rest is kept as published. */
const eventHead = z.looseObject({
  event_id: z.string().min(1).max(64),
  seq: z.number().int().nonnegative(),
  terminal_id: z.string().min(1).max(64),
});

/** Acknowledgements are gathered this long, or up to ACK_BATCH ids, then sent in one message. */
const ACK_DELAY_MS = 100;
const ACK_BATCH = 500;

export interface CollectorOptions {
  config: Config;
  db: Db;
  log: Logger;
  url: string;
  clientId?: string;
  /** Called once for each event stored for the first time. */
  onEvent(payload: Record<string, unknown>, raw: string): void;
}

/**
 * A reference central subscriber: takes every terminal's attendance events, stores each once
 * (by event id) in its own database, then acknowledges it on the terminal's `ack` topic. The
 * MQTT PUBACK is only sent after the row is committed, so an event the broker let go of is
 * always on disk here.
 */
export class Collector {
  private client: MqttClient | undefined;
  private pendingAcks = new Map<string, string[]>();
  private ackTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  stored = 0;
  duplicates = 0;

  constructor(private readonly options: CollectorOptions) {}

  start(): void {
    const { config, log, url } = this.options;
    const central = centralTopics(config.mqtt.base_topic);
    const base = clientOptions(config, terminalTopics(config.mqtt.base_topic, '+'), url);
    const options: IClientOptions = {
      ...base,
      clientId: this.options.clientId ?? `presente-collect-${hostname()}`.slice(0, 64),
    };
    delete options.will;

    const client = mqtt.connect(url, options);
    this.client = client;
    // Store before PUBACK: mqtt.js waits for this callback before acknowledging the message.
    client.handleMessage = (packet, done) => {
      try {
        this.receive(packet as IPublishPacket);
        done();
      } catch (err) {
        log.error({ err }, 'could not store an event; it will come again');
        client.end(true);
      }
    };
    client.on('connect', (connack) => {
      this.attempt = 0;
      log.info({ url, sessionPresent: connack.sessionPresent }, 'collector connected');
      client
        .subscribeAsync(central.attendance, { qos: 1 })
        .catch((err) => log.error({ err }, 'could not subscribe to attendance'));
      this.flushAcks();
    });
    client.on('error', (err) => log.debug({ err: err.message }, 'collector connection error'));
    client.on('close', () => {
      if (this.stopped || this.reconnectTimer) return;
      const { reconnect_min_ms: minMs, reconnect_max_ms: maxMs } = config.mqtt;
      this.reconnectTimer = setTimeout(
        () => {
          this.reconnectTimer = undefined;
          if (!this.stopped && !client.connected) client.reconnect();
        },
        backoffMs(this.attempt++, minMs, maxMs),
      );
    });
  }

  private receive(packet: IPublishPacket): void {
    const central = centralTopics(this.options.config.mqtt.base_topic);
    const terminalId = central.terminalOf(packet.topic);
    if (!terminalId) return;
    const raw = packet.payload.toString();
    let payload: Record<string, unknown>;
    let head: z.infer<typeof eventHead>;
    try {
      payload = JSON.parse(raw);
      head = eventHead.parse(payload);
    } catch {
      this.options.log.warn({ topic: packet.topic }, 'ignored a malformed attendance event');
      return;
    }
    const fresh = insertCollected(this.options.db, {
      eventId: head.event_id,
      terminalId,
      seq: head.seq,
      payload: raw,
    });
    if (fresh) {
      this.stored++;
      this.options.onEvent(payload, raw);
    } else {
      this.duplicates++;
    }
    // A duplicate is acknowledged again: the terminal resent it because the first ack was lost.
    const ids = this.pendingAcks.get(terminalId) ?? [];
    ids.push(head.event_id);
    this.pendingAcks.set(terminalId, ids);
    if (ids.length >= ACK_BATCH) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), ACK_DELAY_MS);
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const client = this.client;
    if (!client?.connected) return;
    const central = centralTopics(this.options.config.mqtt.base_topic);
    for (const [terminalId, ids] of this.pendingAcks) {
      const ack: AckPayload = { event_ids: ids };
      // Lost acks are harmless: the terminal resends and the event is acknowledged again.
      client.publish(central.ack(terminalId), JSON.stringify(ack), {
        qos: TOPIC_SPECS.ack.qos,
        retain: false,
      });
    }
    this.pendingAcks.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.flushAcks();
    await this.client?.endAsync().catch(() => undefined);
  }
}
