import { resolve } from 'node:path';
import { buildDaemon } from '../app.js';
import type { LoopStats } from '../attendance/loop.js';
import { replay } from '../attendance/replay.js';
import { errorMessage, PresenteError, UsageError } from '../errors.js';
import { createLogger, silentLogger } from '../log.js';
import { openDatabase } from '../store/db.js';
import { countTemplates } from '../store/templates.js';
import { localDate } from '../time.js';
import { getVisionEngine } from '../vision/engine.js';
import type { Command } from './framework.js';
import { table } from './table.js';

const runCommand: Command = {
  name: 'run',
  summary: 'Run the terminal: migrate, seed, load the model once, open the camera, record.',
  async run(ctx) {
    const config = ctx.config;
    const logger = createLogger(config.log);
    const db = openDatabase(config.data.dir, { busyTimeoutMs: config.database.busy_timeout_ms });
    const { daemon } = buildDaemon({ config, logger, db });
    const removeHandlers = daemon.handleSignals();
    try {
      await daemon.start();
    } catch (err) {
      const exitCode = err instanceof PresenteError ? err.exitCode : 1;
      logger.error({ err: errorMessage(err) }, 'startup failed');
      await daemon.stop('startup failed', exitCode);
    }
    const exitCode = await daemon.done;
    removeHandlers();
    return exitCode;
  },
};

function progressLine(stats: LoopStats): string {
  return (
    `\rframes ${stats.frames_read}  analysed ${stats.frames_analysed}  ` +
    `faces ${stats.faces_seen}  events ${stats.events}  `
  );
}

const replayCommand: Command = {
  name: 'replay',
  summary:
    'Run the whole pipeline on a video file or a folder of stills, as fast as it decodes; ' +
    'punches are recorded in the data directory.',
  usage: 'SOURCE [--data-dir DIR] [--start TIME]',
  positionals: [1, 1],
  json: true,
  options: {
    'data-dir': { type: 'string', description: 'data directory (default: data.dir)' },
    start: {
      type: 'string',
      description: 'time of the first frame, ISO 8601 (default: now)',
    },
  },
  async run(ctx) {
    const dataDir = ctx.string('data-dir');
    if (dataDir) ctx.override('data', { dir: resolve(dataDir) });
    const start = ctx.string('start');
    const originMs = start === undefined ? Date.now() : Date.parse(start);
    if (Number.isNaN(originMs)) throw new UsageError(`--start: not an ISO 8601 time: '${start}'`);

    const config = ctx.config;
    const logger = ctx.json ? silentLogger() : ctx.logger;
    if (countTemplates(ctx.store) === 0) {
      ctx.io.err(
        `presente replay: no face templates in ${config.data.dir}; nobody can be recognised`,
      );
    }
    const engine = getVisionEngine(config.vision, logger);
    const tty = process.stderr.isTTY === true;
    const zone = config.terminal.timezone;
    try {
      const summary = await replay({
        config,
        db: ctx.store,
        engine,
        logger,
        path: ctx.positionals[0]!,
        originMs,
        onEvent: (event) => {
          if (tty) process.stderr.write('\r\x1b[K');
          ctx.io.out(
            ctx.json
              ? JSON.stringify(event)
              : `${event.occurred_at}  ${event.user.code}  ${event.kind}  ${event.status}`,
          );
        },
        onProgress: tty ? (stats) => process.stderr.write(progressLine(stats)) : undefined,
      });
      if (tty) process.stderr.write('\r\x1b[K');
      if (ctx.json) {
        ctx.io.out(JSON.stringify({ summary }));
      } else {
        const rows = Object.entries(summary).map(([key, value]) => [key, String(value)]);
        ctx.io.out(table(['figure', 'value'], rows));
        ctx.io.out(`replayed as of ${localDate(new Date(originMs), zone)} (${zone})`);
      }
      return 0;
    } finally {
      await engine.close();
    }
  },
};

export const runCommands: Command[] = [runCommand, replayCommand];
