// Reports, retention and the template codec on a real SQLite file in a temp dir: how long a
// month's report takes, how long retention holds the event loop per batch, what encryption
// costs per descriptor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { uuidv7 } from '../src/ids.js';
import {
  generateKey,
  openDescriptor,
  sealDescriptor,
  type TemplateKey,
  templateKey,
} from '../src/privacy/crypto.js';
import { eraseUser } from '../src/privacy/erase.js';
import { rekeyTemplates } from '../src/privacy/keys.js';
import { buildReport } from '../src/reports/report.js';
import { insertAttendance } from '../src/store/attendance.js';
import { type Db, openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { deleteAttendanceBefore } from '../src/store/retention.js';
import { upsertShift, WEEKDAYS } from '../src/store/shifts.js';
import { insertTemplate } from '../src/store/templates.js';
import { addUser } from '../src/store/users.js';
import { addDays, utcOffsetMin, zonedTime } from '../src/time.js';

const ZONE = 'Europe/Madrid';

function freshDb(): { db: Db; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'presente-bench-'));
  const db = openDatabase(dir);
  migrate(db);
  return { db, dir };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function timeMs(fn: () => void): number {
  const began = performance.now();
  fn();
  return performance.now() - began;
}

function randomDescriptor(): Float32Array {
  return Float32Array.from({ length: 128 }, () => Math.random() - 0.5);
}

function codecTable(): string {
  const key = templateKey(generateKey());
  const descriptor = randomDescriptor();
  const rounds = 20_000;
  const rows: string[] = [];
  for (const [name, k] of [
    ['plain float32', null],
    ['AES-256-GCM', key],
  ] as [string, TemplateKey | null][]) {
    const sealed = sealDescriptor(descriptor, k);
    const sealUs =
      (timeMs(() => {
        for (let i = 0; i < rounds; i++) sealDescriptor(descriptor, k);
      }) *
        1000) /
      rounds;
    const openUs =
      (timeMs(() => {
        for (let i = 0; i < rounds; i++) openDescriptor(sealed, k);
      }) *
        1000) /
      rounds;
    rows.push(
      `| ${name} | ${sealUs.toFixed(1)} | ${openUs.toFixed(1)} | ${sealed.descriptor.length} |`,
    );
  }
  return [
    '| template codec | seal µs | open µs | stored bytes |',
    '|---|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

/** `people` people on the morning shift, four punches a day for `days` days. */
function fillAttendance(db: Db, people: number, days: number, firstDay: string): void {
  upsertShift(db, { name: 'morning', start: '08:00', end: '16:00', weekdays: [...WEEKDAYS] });
  const times = ['07:55', '12:00', '13:00', '16:05'];
  let seq = 0;
  db.transaction(() => {
    for (let p = 0; p < people; p++) {
      const user = addUser(db, { code: `E${String(p).padStart(4, '0')}`, name: `Person ${p}` });
      for (let d = 0; d < days; d++) {
        const day = addDays(firstDay, d);
        times.forEach((time, i) => {
          const at = zonedTime(day, time, ZONE);
          seq++;
          insertAttendance(db, {
            id: uuidv7(at.getTime()),
            seq,
            userId: user.id,
            kind: i % 2 === 0 ? 'check_in' : 'check_out',
            occurredAt: at.toISOString(),
            utcOffsetMin: utcOffsetMin(at, ZONE),
            shiftId: 1,
            shiftDay: day,
            status: 'on_time',
            distance: 0.3,
            camera: 'door',
          });
        });
      }
    }
  })();
}

function reportTable(): string {
  const rows: string[] = [];
  for (const people of [20, 100]) {
    const { db, dir } = freshDb();
    fillAttendance(db, people, 31, '2026-10-01');
    const asOf = new Date('2026-12-01T00:00:00Z');
    const month = median(
      Array.from({ length: 5 }, () =>
        timeMs(() =>
          buildReport(db, { from: '2026-10-01', to: '2026-10-31', timeZone: ZONE, asOf }),
        ),
      ),
    );
    const day = median(
      Array.from({ length: 5 }, () =>
        timeMs(() =>
          buildReport(db, { from: '2026-10-15', to: '2026-10-15', timeZone: ZONE, asOf }),
        ),
      ),
    );
    rows.push(`| ${people} | ${people * 31 * 4} | ${month.toFixed(0)} | ${day.toFixed(1)} |`);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '| people | punches in October | month report ms (p50) | one-day summary ms (p50) |',
    '|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/**
 * 100,000 punches past retention, deleted as the retention job does: one short transaction
 * per batch, the event loop free in between. Each batch's time is how long the frame loop
 * could have waited.
 */
async function retentionTable(): Promise<string> {
  const rows: string[] = [];
  for (const batch of [100, 500, 2000]) {
    const { db, dir } = freshDb();
    fillAttendance(db, 100, 250, '2024-01-01');
    const cutoff = new Date('2026-11-01T00:00:00Z').toISOString();
    const batchMs: number[] = [];
    let deleted = 0;
    const began = performance.now();
    for (;;) {
      const t = performance.now();
      const n = deleteAttendanceBefore(db, cutoff, batch);
      batchMs.push(performance.now() - t);
      deleted += n;
      if (n < batch) break;
      await nextTurn();
    }
    const seconds = (performance.now() - began) / 1000;
    rows.push(
      `| ${batch} | ${deleted} | ${seconds.toFixed(1)} | ${Math.round(deleted / seconds)} | ` +
        `${percentile(batchMs, 50).toFixed(1)} | ${percentile(batchMs, 95).toFixed(1)} | ` +
        `${Math.max(...batchMs).toFixed(0)} |`,
    );
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '| retention.batch | rows deleted | seconds | rows/s | ms per batch p50 | p95 | max |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

function templatesTable(): string {
  const { db, dir } = freshDb();
  const oldKey = templateKey(generateKey());
  db.transaction(() => {
    for (let p = 0; p < 200; p++) {
      const user = addUser(db, { code: `E${p}`, name: `Person ${p}` });
      for (let t = 0; t < 5; t++) {
        insertTemplate(db, user.id, sealDescriptor(randomDescriptor(), oldKey), 'bench', {});
      }
    }
  })();
  const rekeyMs = timeMs(() => rekeyTemplates(db, oldKey, templateKey(generateKey())));
  const eraseMs = median(Array.from({ length: 5 }, (_, i) => timeMs(() => eraseUser(db, `E${i}`))));
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return [
    '| templates operation | ms |',
    '|---|---:|',
    `| rekey 1,000 templates (one transaction, WAL truncated) | ${rekeyMs.toFixed(0)} |`,
    `| erase one person with 5 templates (WAL truncated), p50 | ${eraseMs.toFixed(1)} |`,
  ].join('\n');
}

export async function run(): Promise<string> {
  return [codecTable(), reportTable(), await retentionTable(), templatesTable()].join('\n\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await run()}\n`);
}
