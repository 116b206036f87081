import type { IClientPublishOptions } from 'mqtt';
import type { Module, Runtime } from '../daemon.js';
import type { Alert } from '../events.js';
import type { Logger } from '../log.js';
import { softwareVersion } from '../paths.js';
import { assertNoBiometrics } from '../privacy/scan.js';
import { outboxCounts } from '../store/outbox.js';
import { listUsers } from '../store/users.js';
import { MqttConnection } from './connection.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded.js';
import { discoveryMessages } from './homeassistant.js';
import { OutboxPublisher } from './publisher.js';
import { type Enroller, RequestHandler } from './requests.js';
import {
  type AlertPayload,
  type HeartbeatPayload,
  homeAssistantStatusTopic,
  TOPIC_SPECS,
  type Topics,
  terminalTopics,
} from './topics.js';

/** Health figures for the heartbeat, snake_case with units; supplied by the health module. */
export type HeartbeatSource = () => Record<string, number | string | boolean | null>;

/** Alerts kept while the broker is away, sent on the next connection. */
const MAX_QUEUED_ALERTS = 100;

export interface MqttModule extends Module {
  /** The health module's figures; until set, the heartbeat carries uptime, RSS and the backlog. */
  setHeartbeatSource(source: HeartbeatSource): void;
  /** The vision module's enrollment; until set, `enroll` requests are refused as unavailable. */
  setEnroller(enroller: Enroller): void;
  /** What `reload` does (e.g. re-read templates); returns the names of what was reloaded. */
  setReloadHandler(handler: () => Promise<string[]>): void;
  /** Called after a request changed users or templates. */
  onRosterChanged(listener: () => void): void;
  readonly topics: Topics;
  /** Connected to a broker right now. */
  readonly connected: boolean;
  /** The broker in use (the embedded one's address when it was started), once started. */
  readonly brokerUrl: string | undefined;
  /** The delivery side, once connected to a broker (undefined when there is none). */
  readonly publisher: OutboxPublisher | undefined;
}

/**
 * The terminal's MQTT side: presence, outbox delivery, heartbeat, alerts, requests and Home
 * Assistant discovery. With no broker URL it stays idle (events wait in the outbox), or starts
 * an embedded broker when `mqtt.embedded_broker` is set.
 */
export function createMqttModule(runtime: Runtime): MqttModule {
  const { config, db, bus } = runtime;
  const log: Logger = runtime.logger.child({ module: 'mqtt' });
  const topics = terminalTopics(config.mqtt.base_topic, config.terminal.id);
  const startedAt = Date.now();

  let heartbeatSource: HeartbeatSource | undefined;
  let enroller: Enroller | undefined;
  let reloadHandler: (() => Promise<string[]>) | undefined;
  const rosterListeners: (() => void)[] = [];

  let connection: MqttConnection | undefined;
  let publisher: OutboxPublisher | undefined;
  let embedded: EmbeddedBroker | undefined;
  let brokerUrl: string | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let requestChain: Promise<void> = Promise.resolve();
  const queuedAlerts: AlertPayload[] = [];

  const publishJson = (topic: string, payload: unknown, options: IClientPublishOptions) => {
    try {
      // The last line of defence: nothing that looks like a descriptor or an image leaves.
      assertNoBiometrics(payload);
      return connection!.publish(topic, JSON.stringify(payload), options);
    } catch (err) {
      log.error({ err, topic }, 'refused to publish a payload');
      return Promise.reject(err);
    }
  };

  const heartbeat = (): HeartbeatPayload => ({
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    rss_mb: Math.round(process.memoryUsage.rss() / 1048576),
    outbox_pending: outboxCounts(db).pending,
    ...heartbeatSource?.(),
    terminal_id: config.terminal.id,
    at: new Date().toISOString(),
  });

  const sendHeartbeat = () => {
    if (!connection?.connected) return;
    const interval = config.heartbeat.interval_s;
    const spec = TOPIC_SPECS.heartbeat;
    publishJson(topics.heartbeat, heartbeat(), {
      qos: spec.qos,
      retain: spec.retain,
      // A retained heartbeat older than three intervals says nothing true; let it expire.
      properties: { messageExpiryInterval: Math.max(1, Math.ceil(interval * 3)) },
    }).catch((err) => log.debug({ err: (err as Error).message }, 'heartbeat not sent'));
  };

  const sendAlert = (alert: AlertPayload) => {
    if (!connection?.connected) {
      queuedAlerts.push(alert);
      if (queuedAlerts.length > MAX_QUEUED_ALERTS) queuedAlerts.shift();
      return;
    }
    const spec = TOPIC_SPECS.alert;
    publishJson(topics.alert, alert, { qos: spec.qos, retain: spec.retain }).catch(() => {
      // Lost with the connection: sent again on the next one.
      if (!connection?.connected) queuedAlerts.push(alert);
    });
  };

  const onAlert = (alert: Alert) =>
    sendAlert({
      terminal_id: config.terminal.id,
      kind: alert.kind,
      severity: alert.severity,
      message: alert.message,
      details: alert.details ?? {},
      at: new Date().toISOString(),
    });

  const sendDiscovery = () => {
    if (!config.mqtt.ha_discovery || !connection?.connected) return;
    for (const message of discoveryMessages(config.mqtt.ha_prefix, config.terminal.id, topics)) {
      publishJson(message.topic, message.payload, { qos: 1, retain: true }).catch((err) =>
        log.debug({ err: (err as Error).message }, 'discovery not sent'),
      );
    }
    log.debug('sent home assistant discovery');
  };

  const requests = new RequestHandler(
    db,
    config,
    log,
    {
      status: () => ({
        terminal_id: config.terminal.id,
        state: 'online',
        software_version: softwareVersion,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        delivery: config.mqtt.delivery,
        outbox_pending: outboxCounts(db).pending,
        outbox_rows: outboxCounts(db).total,
        users_active: listUsers(db, { activeOnly: true }).length,
      }),
      reload: async () => (reloadHandler ? reloadHandler() : []),
      enroller: () => enroller,
      rosterChanged: () => {
        for (const listener of rosterListeners) {
          try {
            listener();
          } catch (err) {
            // The change is committed; a listener that cannot follow now catches up later.
            log.warn({ err }, 'could not apply a roster change at once');
          }
        }
      },
    },
    topics.response,
  );

  const onMessage = (
    topic: string,
    payload: Buffer,
    packet: Parameters<RequestHandler['handle']>[2],
  ) => {
    const name = topics.requestName(topic);
    if (name !== undefined) {
      // One request at a time, in arrival order: a reply never overtakes an earlier one.
      requestChain = requestChain
        .then(async () => {
          const reply = await requests.handle(name, payload, packet);
          if (!reply || !connection?.connected) return;
          const properties =
            reply.correlationData && connection.protocolVersion === 5
              ? { correlationData: reply.correlationData }
              : undefined;
          await publishJson(reply.topic, reply.payload, {
            qos: TOPIC_SPECS.response.qos,
            retain: false,
            ...(properties ? { properties } : {}),
          });
        })
        .catch((err) => log.error({ err }, 'could not answer a request'));
      return;
    }
    if (topic === homeAssistantStatusTopic(config.mqtt.ha_prefix)) {
      if (payload.toString('utf8').trim() === 'online') sendDiscovery();
    }
  };

  const onOnline = () => {
    const conn = connection!;
    const v5 = conn.protocolVersion === 5;
    // Retain-as-published lets a retained request be recognised (and ignored) on MQTT 5.
    const subscribeRequests = v5
      ? conn.subscribeWith(topics.requests, { qos: 1, rap: true })
      : conn.subscribe(topics.requests, 1);
    subscribeRequests.catch((err) => log.warn({ err }, 'could not subscribe to requests'));
    if (config.mqtt.ha_discovery) {
      conn
        .subscribe(homeAssistantStatusTopic(config.mqtt.ha_prefix), 1)
        .catch((err) => log.warn({ err }, 'could not subscribe to home assistant status'));
      sendDiscovery();
    }
    sendHeartbeat();
    for (const alert of queuedAlerts.splice(0)) sendAlert(alert);
  };

  return {
    name: 'mqtt',
    topics,
    get publisher() {
      return publisher;
    },
    get connected() {
      return connection?.connected === true;
    },
    get brokerUrl() {
      return brokerUrl;
    },
    setHeartbeatSource: (source) => {
      heartbeatSource = source;
    },
    setEnroller: (fn) => {
      enroller = fn;
    },
    setReloadHandler: (fn) => {
      reloadHandler = fn;
    },
    onRosterChanged: (listener) => {
      rosterListeners.push(listener);
    },

    async start() {
      let url = config.mqtt.url;
      if (!url && config.mqtt.embedded_broker) {
        embedded = await startEmbeddedBroker(config.mqtt.embedded_port, log);
        url = embedded.url;
      }
      if (!url) {
        log.info('no broker configured (mqtt.url is empty); events stay in the outbox');
        return;
      }

      brokerUrl = url;
      // aedes, the embedded broker, speaks MQTT 3.1.1 only.
      const effective = embedded
        ? { ...config, mqtt: { ...config.mqtt, protocol_version: 4 as const } }
        : config;
      connection = new MqttConnection(effective, topics, log, url);
      publisher = new OutboxPublisher(db, connection, topics, config, log, bus);
      connection.on('online', onOnline);
      connection.on('message', onMessage);
      bus.on('alert', onAlert);
      publisher.start();
      connection.start();

      heartbeatTimer = setInterval(sendHeartbeat, config.heartbeat.interval_s * 1000);
      heartbeatTimer.unref();
    },

    async stop() {
      clearInterval(heartbeatTimer);
      bus.off('alert', onAlert);
      publisher?.stop();
      await requestChain;
      await connection?.stop();
      await embedded?.close();
    },
  };
}
