import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { Collector } from '../mqtt/collect.js';
import { countCollected, openCollectorDb } from '../store/collector.js';
import type { Command } from './framework.js';

const collectCommand: Command = {
  name: 'collect',
  summary:
    'A reference central subscriber: stores every terminal attendance event once, ' +
    'acknowledges it on ack and prints it. Runs until stopped.',
  usage: '[--db FILE] [--url URL]',
  json: true,
  options: {
    db: { type: 'string', description: 'its SQLite file (default DATA_DIR/collector.db)' },
    url: { type: 'string', description: 'broker URL (default mqtt.url)' },
    'client-id': { type: 'string', description: 'MQTT client id (default presente-collect-HOST)' },
  },
  async run(ctx) {
    const config = ctx.config;
    const url = ctx.string('url') ?? config.mqtt.url;
    if (!url) throw new UsageError('collect: no broker; set mqtt.url or pass --url');
    const file = ctx.string('db') ?? join(config.data.dir, 'collector.db');
    const db = openCollectorDb(file);
    const log = createLogger({ level: config.log.level, format: 'json' }, process.stderr).child({
      module: 'collect',
    });

    const collector = new Collector({
      config,
      db,
      log,
      url,
      ...(ctx.string('client-id') ? { clientId: ctx.string('client-id')! } : {}),
      onEvent: (event, raw) => {
        if (ctx.json) {
          ctx.io.out(raw);
          return;
        }
        const user = (event.user ?? {}) as { code?: string; name?: string };
        ctx.io.out(
          [
            event.occurred_at,
            event.terminal_id,
            `#${event.seq}`,
            user.code,
            user.name,
            event.kind,
            event.status,
          ].join('  '),
        );
      },
    });
    log.info({ db: file, stored: countCollected(db) }, 'collector starting');
    collector.start();

    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await collector.stop();
    log.info({ stored: collector.stored, duplicates: collector.duplicates }, 'collector stopped');
    db.close();
    return 0;
  },
};

export const mqttCommands: Command[] = [collectCommand];
