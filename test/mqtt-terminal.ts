/**
 * A terminal for MQTT tests, run as its own process: the real daemon start/stop order with only
 * the MQTT module, against a temp database, optionally recording punches through the real
 * recorder until the attendance sequence reaches a target. Tests kill it with SIGKILL and start
 * it again on the same data.
 *
 *   node --import tsx test/mqtt-terminal.ts CONFIG.yaml [--record N] [--rate PER_TICK]
 *
 * Prints `ready` once the module started, `recorded N` when the target is reached.
 */
import { parseArgs } from 'node:util';
import { recordPunch, SEQ_COUNTER } from '../src/attendance/recorder.js';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { createLogger } from '../src/log.js';
import { createMqttModule } from '../src/mqtt/module.js';
import { currentValue } from '../src/store/counters.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { findUser, upsertUser } from '../src/store/users.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { record: { type: 'string' }, rate: { type: 'string' } },
});
const { config } = loadConfig({ file: positionals[0] });
const logger = createLogger({ level: config.log.level, format: 'json' }, process.stderr);
const db = openDatabase(config.data.dir);
migrate(db);
upsertUser(db, { code: 'E001', name: 'Ada Lovelace' });
const user = findUser(db, 'E001')!;

const daemon = new Daemon(logger, { stopTimeoutMs: 10_000 });
const mqtt = createMqttModule({
  config,
  logger,
  db,
  bus: daemon.bus,
  requestStop: (reason, code) => void daemon.stop(reason, code),
});
daemon.add(mqtt);
daemon.handleSignals();
await daemon.start();
process.stdout.write('ready\n');

const target = Number(values.record ?? 0);
const perTick = Number(values.rate ?? 25);
const context = {
  terminalId: config.terminal.id,
  timeZone: config.terminal.timezone,
  modelVersion: 'test-model',
  clockSynced: () => true,
};

function recordSome(): void {
  if (daemon.isStopping) return;
  let seq = currentValue(db, SEQ_COUNTER);
  for (let i = 0; i < perTick && seq < target; i++) {
    const event = recordPunch(db, context, {
      userId: user.id,
      userCode: user.code,
      userName: user.name,
      kind: seq % 2 === 0 ? 'check_in' : 'check_out',
      status: 'on_time',
      occurredAt: new Date(),
      shiftId: null,
      shiftName: null,
      shiftDay: null,
      distance: 0.31,
      camera: config.terminal.camera_name,
    });
    daemon.bus.emit('attendance', event);
    seq = event.seq;
  }
  if (seq < target) setTimeout(recordSome, 2);
  else process.stdout.write(`recorded ${seq}\n`);
}
if (target > 0) recordSome();

const code = await daemon.done;
db.close();
process.exit(code);
