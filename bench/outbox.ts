// Outbox drain: a backlog of 100,000 attendance events (recorded through the real recorder
// while no broker was there) delivered to a local Mosquitto, QoS 1, with a central subscriber
// in its own process. Events per second and the publishing process's peak RSS while draining.
//
//   npm run bench:outbox                 100,000 events
//   OUTBOX_EVENTS=20000 npm run bench:outbox
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { recordPunch } from '../src/attendance/recorder.js';
import { loadConfig } from '../src/config/load.js';
import { DaemonBus } from '../src/events.js';
import { silentLogger } from '../src/log.js';
import { createMqttModule } from '../src/mqtt/module.js';
import { packageRoot } from '../src/paths.js';
import { DATABASE_FILE, openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { outboxCounts } from '../src/store/outbox.js';
import { findUser, upsertUser } from '../src/store/users.js';
import { Mosquitto } from '../test/mosquitto.js';

const EVENTS = Number(process.env.OUTBOX_EVENTS ?? 100_000);
const MB = 1024 * 1024;

interface Scenario {
  delivery: 'broker' | 'consumer';
  batch: number;
}

const SCENARIOS: Scenario[] = [
  { delivery: 'broker', batch: 100 },
  { delivery: 'broker', batch: 500 },
  { delivery: 'consumer', batch: 100 },
];

/** Records the backlog once, in one transaction, into a database file to copy for each run. */
function buildBacklog(dir: string): string {
  const db = openDatabase(dir);
  migrate(db);
  upsertUser(db, { code: 'E001', name: 'Ada Lovelace' });
  const user = findUser(db, 'E001')!;
  const context = {
    terminalId: 'door-1',
    timeZone: 'Europe/Madrid',
    modelVersion: 'bench',
    clockSynced: () => true,
  };
  db.transaction(() => {
    for (let i = 0; i < EVENTS; i++) {
      recordPunch(db, context, {
        userId: user.id,
        userCode: user.code,
        userName: user.name,
        kind: i % 2 === 0 ? 'check_in' : 'check_out',
        status: 'on_time',
        occurredAt: new Date(Date.UTC(2026, 11, 1) + i * 1000),
        shiftId: null,
        shiftName: 'morning',
        shiftDay: '2026-12-01',
        distance: 0.3123,
        camera: 'door',
      });
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return join(dir, DATABASE_FILE);
}

/** A central subscriber in its own process: counts attendance events (broker mode). */
function countingSubscriber(url: string): ChildProcess {
  const script = `
    import mqtt from 'mqtt';
    const client = mqtt.connect(${JSON.stringify(url)}, { clientId: 'bench-central', clean: false,
      protocolVersion: 5, properties: { sessionExpiryInterval: 600 } });
    client.on('connect', () => client.subscribe('presente/+/attendance', { qos: 1 },
      () => process.stdout.write('ready\\n')));
    client.on('message', () => {});
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** `presente collect` (consumer mode): stores and acknowledges every event. */
function collector(url: string, dir: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(packageRoot, 'src', 'cli.ts'),
      'collect',
      '--url',
      url,
      '--db',
      join(dir, 'collector.db'),
      '--json',
    ],
    { cwd: packageRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } },
  );
}

function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp) {
  return new Promise<void>((resolve, reject) => {
    let text = '';
    child[stream]!.on('data', (d) => {
      text += d;
      if (pattern.test(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`subscriber exited with ${code}`)));
  });
}

async function drain(scenario: Scenario, template: string, broker: Mosquitto, root: string) {
  const dir = mkdtempSync(join(root, 'run-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  copyFileSync(template, join(dataDir, DATABASE_FILE));

  const central =
    scenario.delivery === 'broker' ? countingSubscriber(broker.url) : collector(broker.url, dir);
  await (scenario.delivery === 'broker'
    ? waitForOutput(central, 'stdout', /ready/)
    : new Promise((r) => setTimeout(r, 3000)));

  const { config } = loadConfig({
    env: {},
    overrides: {
      terminal: { id: 'door-1' },
      data: { dir: dataDir },
      mqtt: { url: broker.url, delivery: scenario.delivery },
      outbox: { batch: scenario.batch, max_rows: EVENTS * 2 },
      heartbeat: { interval_s: 3600 },
    },
  });
  const db = openDatabase(dataDir);
  const module = createMqttModule({
    config,
    logger: silentLogger(),
    db,
    bus: new DaemonBus(),
    requestStop: () => undefined,
  });

  let peakRss = process.memoryUsage.rss();
  const began = performance.now();
  await module.start(new AbortController().signal);
  while (outboxCounts(db).pending > 0) {
    await new Promise((r) => setTimeout(r, 100));
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  const seconds = (performance.now() - began) / 1000;

  await module.stop();
  db.close();
  central.kill('SIGTERM');
  await new Promise((r) => central.once('exit', r));
  return { seconds, rate: EVENTS / seconds, peakRssMb: peakRss / MB };
}

export async function run(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'presente-bench-outbox-'));
  const broker = await Mosquitto.start({ autosaveIntervalS: 3600 });
  try {
    const template = buildBacklog(join(root, 'template'));
    const rows: string[] = [];
    for (const scenario of SCENARIOS) {
      const result = await drain(scenario, template, broker, root);
      rows.push(
        `| ${scenario.delivery} | ${scenario.batch} | ${EVENTS.toLocaleString('en')} | ` +
          `${result.seconds.toFixed(1)} | ${Math.round(result.rate).toLocaleString('en')} | ` +
          `${result.peakRssMb.toFixed(0)} |`,
      );
    }
    return [
      `Drain of a ${EVENTS.toLocaleString('en')}-event backlog to a local Mosquitto ` +
        '(QoS 1, a central subscriber in its own process; in consumer mode `presente collect` ' +
        'stores and acknowledges each event). Time from connect to an empty outbox.',
      '',
      '| delivery | in flight (outbox.batch) | events | seconds | events/s | peak RSS MB |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
  } finally {
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await run()}\n`);
}
