import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from './helpers.js';
import { Mosquitto, waitFor } from './mosquitto.js';
import { attendanceValidator, startCollect, startTerminal, writeConfig } from './mqtt-support.js';

const EVENTS = 10_000;
const validate = attendanceValidator();

/** Read-only looks into a database another process writes. */
function query<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

function count(file: string, sql: string): number {
  try {
    return (query<{ n: number }>(file, sql)[0]?.n ?? 0) as number;
  } catch {
    // Not created yet by the other process.
    return 0;
  }
}

const collectedCount = (file: string) => count(file, 'SELECT count(*) AS n FROM collected_events');
const recordedCount = (file: string) =>
  count(file, `SELECT coalesce(max(value), 0) AS n FROM counters WHERE name = 'attendance_seq'`);
const pendingCount = (file: string) =>
  count(file, 'SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL');

/** Every recorded event reached the collector exactly once, and each payload is valid. */
function assertCollectedExactly(terminalDb: string, collectorDb: string, total: number) {
  const recorded = query<{ id: string }>(terminalDb, 'SELECT id FROM attendance ORDER BY seq');
  const collected = query<{ event_id: string; seq: number; payload: string }>(
    collectorDb,
    'SELECT event_id, seq, payload FROM collected_events ORDER BY seq',
  );
  assert.equal(recorded.length, total);
  assert.equal(collected.length, total);
  assert.deepEqual(
    collected.map((c) => c.event_id),
    recorded.map((r) => r.id),
  );
  assert.deepEqual(
    collected.map((c) => c.seq),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  for (const row of collected.filter((_, i) => i % 97 === 0)) {
    assert.deepEqual(validate(JSON.parse(row.payload)), []);
  }
}

describe('mqtt: no event lost, none stored twice', () => {
  test(`${EVENTS} events while the broker is SIGKILLed and restarted (consumer mode)`, async () => {
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const dir = tempDir();
    const configFile = writeConfig(dir, broker.url, {
      log: { level: 'info', format: 'json' },
      mqtt: { delivery: 'consumer' },
    });
    const terminalDb = join(dir, 'data', 'presente.db');
    const collectorDb = join(dir, 'collector.db');

    const collect = startCollect(configFile, collectorDb);
    after(() => collect.kill());
    await waitFor(() => /collector connected/.test(collect.stderr), 'the collector');
    const terminal = await startTerminal(configFile, EVENTS);
    after(() => terminal.kill());

    for (const share of [0.15, 0.35, 0.55, 0.75]) {
      await waitFor(
        () => collectedCount(collectorDb) >= EVENTS * share,
        `${share * 100}% collected`,
        60_000,
      );
      await broker.kill();
      await new Promise((r) => setTimeout(r, 200));
      await broker.restart();
    }

    await terminal.waitForLine(/^recorded 10000$/m, 60_000);
    await waitFor(
      () => pendingCount(terminalDb) === 0 && collectedCount(collectorDb) === EVENTS,
      'every event acknowledged',
      90_000,
    );
    assertCollectedExactly(terminalDb, collectorDb, EVENTS);
  });

  test(`${EVENTS} events while the terminal is SIGKILLed and restarted (broker mode)`, async () => {
    const broker = await Mosquitto.start();
    after(() => broker.stop());
    const dir = tempDir();
    const configFile = writeConfig(dir, broker.url, { log: { level: 'info', format: 'json' } });
    const terminalDb = join(dir, 'data', 'presente.db');
    const collectorDb = join(dir, 'collector.db');

    const collect = startCollect(configFile, collectorDb);
    after(() => collect.kill());
    await waitFor(() => /collector connected/.test(collect.stderr), 'the collector');

    let terminal = await startTerminal(configFile, EVENTS);
    for (const share of [0.2, 0.4, 0.6, 0.8]) {
      await waitFor(() => recordedCount(terminalDb) >= EVENTS * share, `${share * 100}% recorded`);
      await terminal.kill('SIGKILL');
      terminal = await startTerminal(configFile, EVENTS);
    }
    after(() => terminal.kill());

    await terminal.waitForLine(/^recorded 10000$/m, 60_000);
    await waitFor(
      () => pendingCount(terminalDb) === 0 && collectedCount(collectorDb) === EVENTS,
      'every event delivered',
      90_000,
    );
    assertCollectedExactly(terminalDb, collectorDb, EVENTS);
  });

  test('consumer mode: the broker dies right after acknowledging, and still nothing is missing', async () => {
    // No autosave: whatever the broker queued for the collector dies with it.
    const broker = await Mosquitto.start({ autosaveIntervalS: 3600 });
    after(() => broker.stop());
    const dir = tempDir();
    const configFile = writeConfig(dir, broker.url, {
      log: { level: 'info', format: 'json' },
      mqtt: { delivery: 'consumer' },
      outbox: { retry_min_ms: 500, retry_max_ms: 1000 },
    });
    const terminalDb = join(dir, 'data', 'presente.db');
    const collectorDb = join(dir, 'collector.db');
    const total = 300;

    // The collector's session exists, so the broker accepts and queues events for it.
    let collect = startCollect(configFile, collectorDb);
    await waitFor(() => /collector connected/.test(collect.stderr), 'the collector');
    await collect.kill('SIGTERM');

    const terminal = await startTerminal(configFile, total);
    after(() => terminal.kill());
    await terminal.waitForLine(new RegExp(`^recorded ${total}$`, 'm'));
    await waitFor(
      () =>
        count(terminalDb, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL') ===
        total,
      'the broker to acknowledge every event',
    );
    assert.equal(pendingCount(terminalDb), total, 'no consumer has acknowledged anything yet');

    await broker.kill();
    await broker.restart();
    collect = startCollect(configFile, collectorDb);
    after(() => collect.kill());
    await waitFor(
      () => pendingCount(terminalDb) === 0 && collectedCount(collectorDb) === total,
      'every event resent and acknowledged',
      60_000,
    );
    assertCollectedExactly(terminalDb, collectorDb, total);
    // `presente collect --json` printed each new event once, as published.
    const lines = () => collect.stdout.split('\n').filter(Boolean).length;
    await waitFor(() => lines() >= total, 'the printed events');
    const printed = collect.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(printed.length, total);
    for (const event of printed) assert.deepEqual(validate(event), []);
  });
});
