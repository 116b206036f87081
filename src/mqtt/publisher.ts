import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { Alert, DaemonBus } from '../events.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import {
  dueRows,
  markDelivered,
  markDeliveredByEventId,
  markPublished,
  type OutboxRow,
  outboxCounts,
  pruneDelivered,
} from '../store/outbox.js';
import { backoffMs, type MqttConnection } from './connection.js';
import { TOPIC_SPECS, type Topics } from './topics.js';

const ackSchema = z.strictObject({ event_ids: z.array(z.string().min(1).max(64)).max(10_000) });

/** How often the outbox is looked at without being told (rows from other processes, retries). */
const POLL_MS = 1000;
/** How often the backlog is counted, pruned and compared with the alert threshold. */
const BACKLOG_CHECK_MS = 5000;

type BacklogLevel = 'ok' | 'warning' | 'critical';

export interface PublisherEvents {
  /** Rows newly confirmed (by the broker, or by a consumer in consumer mode). */
  delivered: [count: number];
}

/**
 * Delivers the outbox: QoS 1, oldest first, at most `outbox.batch` events in flight.
 *
 * Mode `broker`: a row is delivered when the broker acknowledges it (PUBACK). Mode `consumer`:
 * the PUBACK only makes the row wait; it is delivered when a central consumer sends its event
 * id on `ack`, and sent again with growing delays until then. A row that was in flight when the
 * connection dropped stays undelivered and goes out again after the reconnect, so an event is
 * sent at least once; consumers deduplicate by event id.
 */
export class OutboxPublisher extends EventEmitter<PublisherEvents> {
  private cursor = 0;
  private inFlight = 0;
  private generation = 0;
  private confirmed: OutboxRow[] = [];
  private pumpScheduled = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private backlogTimer: NodeJS.Timeout | undefined;
  private backlogLevel: BacklogLevel = 'ok';
  private stopped = false;
  private deliveredTotal = 0;
  private readonly onNewRows = () => this.schedulePump();

  constructor(
    private readonly db: Db,
    private readonly connection: MqttConnection,
    private readonly topics: Topics,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly bus: DaemonBus,
  ) {
    super();
  }

  get mode(): Config['mqtt']['delivery'] {
    return this.config.mqtt.delivery;
  }

  /** Events confirmed since start. */
  get delivered(): number {
    return this.deliveredTotal;
  }

  start(): void {
    this.connection.on('online', () => {
      this.generation++;
      this.inFlight = 0;
      this.cursor = 0;
      this.connection
        .subscribe(this.topics.ack, TOPIC_SPECS.ack.qos)
        .catch((err) => this.log.warn({ err }, 'could not subscribe to acknowledgements'));
      this.schedulePump();
    });
    this.connection.on('offline', () => {
      // Whatever was in flight is resent from the outbox on the next connection.
      this.generation++;
      this.inFlight = 0;
      this.cursor = 0;
    });
    this.connection.on('message', (topic, payload) => {
      if (topic === this.topics.ack) this.handleAck(payload);
    });
    this.bus.on('outbox', this.onNewRows);
    this.bus.on('attendance', this.onNewRows);
    this.pollTimer = setInterval(() => this.schedulePump(), POLL_MS);
    this.backlogTimer = setInterval(() => this.checkBacklog(), BACKLOG_CHECK_MS);
    this.pollTimer.unref();
    this.backlogTimer.unref();
    this.checkBacklog();
    this.schedulePump();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.backlogTimer);
    this.bus.off('outbox', this.onNewRows);
    this.bus.off('attendance', this.onNewRows);
    this.flushConfirmed();
  }

  /** Coalesces wake-ups: many PUBACKs in one turn of the event loop make one pump. */
  schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      try {
        this.pump();
      } catch (err) {
        this.log.error({ err }, 'outbox delivery failed; retrying');
      }
    });
  }

  private pump(): void {
    this.flushConfirmed();
    if (!this.connection.connected || this.stopped) return;

    const window = this.config.outbox.batch;
    while (this.inFlight < window) {
      const rows = dueRows(this.db, this.cursor, Date.now(), window - this.inFlight);
      if (rows.length === 0) {
        // Back to the start once nothing is in flight: rows whose resend time has come
        // (consumer mode) lie behind the cursor.
        if (this.inFlight === 0) this.cursor = 0;
        return;
      }
      for (const row of rows) this.send(row);
    }
  }

  private send(row: OutboxRow): void {
    const generation = this.generation;
    const spec = row.topic === 'attendance' ? TOPIC_SPECS.attendance : TOPIC_SPECS.summary;
    this.cursor = row.id;
    this.inFlight++;
    this.connection
      .publish(this.topics.relative(row.topic), row.payload, { qos: spec.qos, retain: false })
      .then(
        // A PUBACK is a confirmation whichever connection it came on.
        () => this.confirmed.push(row),
        (err) => this.log.debug({ err: (err as Error).message, seq: row.seq }, 'publish failed'),
      )
      .finally(() => {
        if (generation !== this.generation) return;
        this.inFlight--;
        // Refill when half the window is free: one read and one commit per half window
        // rather than per acknowledgement.
        if (this.inFlight <= this.config.outbox.batch / 2) this.schedulePump();
      });
  }

  /** Writes the confirmations gathered since the last pump in one transaction. */
  private flushConfirmed(): void {
    if (this.confirmed.length === 0) return;
    const rows = this.confirmed;
    this.confirmed = [];
    if (this.mode === 'broker') {
      const n = markDelivered(
        this.db,
        rows.map((r) => r.id),
      );
      this.countDelivered(n);
      return;
    }
    const { retry_min_ms: minMs, retry_max_ms: maxMs } = this.config.outbox;
    markPublished(this.db, rows, (attempts) => Date.now() + backoffMs(attempts - 1, minMs, maxMs));
  }

  private handleAck(payload: Buffer): void {
    let ids: string[];
    try {
      ids = ackSchema.parse(JSON.parse(payload.toString('utf8'))).event_ids;
    } catch {
      this.log.warn({ bytes: payload.length }, 'ignored a malformed acknowledgement');
      return;
    }
    try {
      this.countDelivered(markDeliveredByEventId(this.db, ids));
    } catch (err) {
      this.log.error({ err }, 'could not record acknowledgements; they will be resent');
    }
  }

  private countDelivered(n: number): void {
    if (n === 0) return;
    this.deliveredTotal += n;
    this.emit('delivered', n);
  }

  /** Prunes delivered rows over the limit and alerts while the undelivered backlog is large. */
  checkBacklog(): void {
    const { max_rows: maxRows, warn_ratio: warnRatio } = this.config.outbox;
    try {
      pruneDelivered(this.db, maxRows);
      const { pending } = outboxCounts(this.db);
      const level: BacklogLevel =
        pending >= maxRows ? 'critical' : pending >= maxRows * warnRatio ? 'warning' : 'ok';
      if (level === this.backlogLevel) return;
      const previous = this.backlogLevel;
      this.backlogLevel = level;
      const alert: Alert = {
        kind: 'outbox_backlog',
        severity: level === 'ok' ? 'resolved' : level,
        message:
          level === 'ok'
            ? 'outbox backlog is back below the warning level'
            : `${pending} events wait for delivery (limit ${maxRows}); ` +
              'check the broker connection; no event is dropped',
        details: { pending, max_rows: maxRows },
      };
      if (level !== 'ok') this.log.error({ pending, maxRows }, 'outbox backlog is large');
      if (level !== 'ok' || previous !== 'ok') this.bus.emit('alert', alert);
    } catch (err) {
      this.log.error({ err }, 'could not check the outbox backlog');
    }
  }
}
