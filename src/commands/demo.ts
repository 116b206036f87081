import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AttendanceEvent } from '../attendance/event.js';
import { replay } from '../attendance/replay.js';
import { Daemon, type Runtime } from '../daemon.js';
import { errorMessage } from '../errors.js';
import { createLogger, type Logger, silentLogger } from '../log.js';
import { Collector } from '../mqtt/collect.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../mqtt/embedded.js';
import { createMqttModule } from '../mqtt/module.js';
import { packageRoot } from '../paths.js';
import { loadTemplateKey } from '../privacy/crypto.js';
import { openCollectorDb } from '../store/collector.js';
import { openDatabase } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { pendingCount } from '../store/outbox.js';
import { seed } from '../store/seed.js';
import { listUsers } from '../store/users.js';
import { localDate } from '../time.js';
import { getVisionEngine, type VisionEngine } from '../vision/engine.js';
import { enrollUser } from '../vision/enroll.js';
import type { Command, CommandContext } from './framework.js';

export const demoFaces = join(packageRoot, 'test', 'fixtures', 'faces');
export const demoClip = join(demoFaces, 'video', 'hamilton_clip_10s.mp4');

/** How long the demo waits for the last events to reach the subscriber after the clip ends. */
const DRAIN_TIMEOUT_MS = 20_000;

interface Received {
  event: AttendanceEvent;
  /** From the decision on the last frame of the punch to the subscriber, in milliseconds. */
  delayMs: number;
}

function describeEvent({ event, delayMs }: Received, zone: string): string {
  const time = new Date(event.occurred_at).toLocaleTimeString('en-GB', { timeZone: zone });
  const kind = event.kind === 'check_in' ? 'IN ' : 'OUT';
  const status = event.status.replace('_', ' ');
  return (
    `  ${time}  ${kind}  ${event.user.name} (${event.user.code})  ${status}` +
    `${event.shift ? `, shift ${event.shift}` : ''}  distance ${event.distance.toFixed(3)}` +
    `  decision→subscriber ${delayMs} ms  #${event.seq}`
  );
}

/** Enrolls every person folder of the bundled photos; returns how many people and photos. */
async function enrollBundledPeople(ctx: CommandContext, db: ReturnType<typeof openDatabase>) {
  const config = ctx.config;
  const engine = getVisionEngine(config.vision, ctx.logger);
  const key = loadTemplateKey(config);
  const peopleDir = join(demoFaces, 'people');
  const known = new Set(listUsers(db).map((u) => u.code));
  let people = 0;
  let photos = 0;
  for (const code of readdirSync(peopleDir).sort()) {
    if (!known.has(code)) continue;
    const files = readdirSync(join(peopleDir, code))
      .sort()
      .map((f) => join(peopleDir, code, f));
    try {
      const result = await enrollUser(db, engine, config.vision, key, code, files, {
        largest: true,
      });
      people++;
      photos += result.templates.length;
    } catch (err) {
      ctx.io.err(`  could not enroll ${code}: ${errorMessage(err)}`);
    }
  }
  return { people, photos };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : noun.endsWith('ch') ? 'es' : 's'}`;
}

function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const began = Date.now();
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        done(true);
      } else if (Date.now() - began > timeoutMs) {
        clearInterval(timer);
        done(false);
      }
    }, 50);
  });
}

const demoCommand: Command = {
  name: 'demo',
  summary:
    'Enroll the bundled people, play the bundled clip as the camera, publish over MQTT and ' +
    'print each event as a central subscriber receives it. No camera or network needed. ' +
    'With --json: a {"demo"} line, one line per event received, then a {"summary"} line.',
  usage: '[--data-dir DIR]',
  json: true,
  options: {
    'data-dir': {
      type: 'string',
      description: 'data directory (default: a fresh temporary folder)',
    },
    verbose: { type: 'boolean', description: "show the terminal's log on stderr" },
  },
  async run(ctx) {
    const dataDir = resolve(
      ctx.string('data-dir') ?? mkdtempSync(join(tmpdir(), 'presente-demo-')),
    );
    ctx.override('data', { dir: dataDir });
    const say = (line: string) => {
      if (!ctx.json) ctx.io.out(line);
    };
    const tty = !ctx.json && process.stderr.isTTY === true;

    // The configured broker, or one in this process on a free port.
    let broker: EmbeddedBroker | undefined;
    const quiet = silentLogger();
    if (!ctx.config.mqtt.url) {
      broker = await startEmbeddedBroker(0, quiet);
      // The embedded broker (aedes) speaks MQTT 3.1.1 only.
      ctx.override('mqtt', { url: broker.url, protocol_version: 4 });
    }
    const config = ctx.config;
    const logger: Logger = ctx.flag('verbose')
      ? createLogger({ level: config.log.level, format: config.log.format }, process.stderr)
      : quiet;
    const zone = config.terminal.timezone;

    say(`presente demo: data in ${dataDir}`);
    say(`  broker ${config.mqtt.url}${broker ? ' (embedded, in this process)' : ''}`);
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ demo: { data_dir: dataDir, broker: config.mqtt.url } }));
    }

    // The terminal's database: schema, the bundled roles, shifts and people, their photos.
    const db = openDatabase(dataDir, { busyTimeoutMs: config.database.busy_timeout_ms });
    migrate(db);
    seed(db, join(packageRoot, 'seeds'));
    const engine = getVisionEngine(config.vision, logger);
    const stopProgress = tty ? showLoading(engine) : () => undefined;
    const enrolled = await enrollBundledPeople(ctx, db);
    stopProgress();
    say(`  enrolled ${enrolled.people} people from ${enrolled.photos} photos`);

    // The central side: the reference subscriber, with its own database.
    const decidedAt = new Map<string, number>();
    const received: Received[] = [];
    const collectorDb = openCollectorDb(join(dataDir, 'central.db'));
    const collector = new Collector({
      config,
      db: collectorDb,
      log: quiet,
      url: config.mqtt.url,
      clientId: `presente-demo-central-${process.pid}`,
      onEvent: (payload) => {
        const event = payload as unknown as AttendanceEvent;
        const decided = decidedAt.get(event.event_id) ?? Date.now();
        const item = { event, delayMs: Math.max(0, Date.now() - decided) };
        received.push(item);
        if (tty) process.stderr.write('\r\x1b[K');
        if (ctx.json) ctx.io.out(JSON.stringify({ ...event, delay_ms: item.delayMs }));
        else say(describeEvent(item, zone));
      },
    });
    collector.start();

    // The terminal's MQTT side (presence, outbox delivery), as in the daemon.
    const daemon = new Daemon(logger);
    const runtime: Runtime = {
      config,
      logger,
      db,
      bus: daemon.bus,
      requestStop: (reason, code) => void daemon.stop(reason, code),
    };
    daemon.add(createMqttModule(runtime));
    const removeHandlers = daemon.handleSignals();

    let exitCode = 0;
    try {
      await daemon.start();
      say(`  playing ${demoClip.slice(packageRoot.length + 1)} as the camera`);
      say('');
      const summary = await replay({
        config,
        db,
        engine,
        logger,
        path: demoClip,
        onEvent: (event) => {
          decidedAt.set(event.event_id, Date.now());
          daemon.bus.emit('outbox');
        },
        onProgress: tty
          ? (stats) =>
              process.stderr.write(
                `\rframes ${stats.frames_read}  analysed ${stats.frames_analysed}  ` +
                  `faces ${stats.faces_seen}  punches ${stats.events}\x1b[K`,
              )
          : undefined,
      });
      if (tty) process.stderr.write('\r\x1b[K');
      const drained = await waitUntil(
        () => pendingCount(db) === 0 && received.length >= summary.events,
        DRAIN_TIMEOUT_MS,
      );
      if (!drained) ctx.io.err('  not every event reached the subscriber in time');
      const result = {
        frames_read: summary.frames_read,
        frames_analysed: summary.frames_analysed,
        faces_seen: summary.faces_seen,
        unknown_faces: summary.unknown_faces,
        events_recorded: summary.events,
        events_received: received.length,
        max_delay_ms: Math.max(0, ...received.map((r) => r.delayMs)),
        ms_per_analysed_frame_p50: summary.ms_per_analysed_frame_p50,
        wall_s: summary.wall_s,
        data_dir: dataDir,
      };
      if (ctx.json) {
        ctx.io.out(JSON.stringify({ summary: result }));
      } else {
        const today = localDate(new Date(), zone);
        say('');
        say(
          `summary: ${result.frames_read} frames read, ${result.frames_analysed} analysed ` +
            `(${result.ms_per_analysed_frame_p50} ms each), ${result.faces_seen} faces seen ` +
            `(${result.unknown_faces} unknown), ${plural(result.events_recorded, 'punch')} ` +
            `recorded, ${result.events_received} received by the central subscriber, in ` +
            `${result.wall_s} s`,
        );
        say(`the attendance is in ${join(dataDir, 'presente.db')}; try:`);
        say(`  PRESENTE_DATA_DIR=${dataDir} presente report --from ${today} --to ${today}`);
      }
      if (!drained) exitCode = 1;
    } catch (err) {
      ctx.io.err(`presente demo: ${errorMessage(err)}`);
      exitCode = 1;
    } finally {
      await daemon.stop('demo finished');
      removeHandlers();
      await engine.close();
      await collector.stop();
      collectorDb.close();
      db.close();
      await broker?.close();
    }
    return exitCode;
  },
};

/** A loading line on stderr while the face models load. */
function showLoading(engine: VisionEngine): () => void {
  const stop = engine.onProgress(({ step, total, name }) => {
    process.stderr.write(`\rloading face models ${step}/${total} (${name})\x1b[K`);
    if (step === total) process.stderr.write('\r\x1b[K');
  });
  return stop;
}

export const demoCommands: Command[] = [demoCommand];
