import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from '../src/ids.js';
import { findBiometrics } from '../src/privacy/scan.js';
import { insertAttendance } from '../src/store/attendance.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { upsertShift } from '../src/store/shifts.js';
import { addUser } from '../src/store/users.js';
import { utcOffsetMin, zonedTime } from '../src/time.js';
import { runCli, tempDir } from './helpers.js';

const ZONE = 'Europe/Madrid';

function prepare(): Record<string, string> {
  const dir = tempDir();
  const db = openDatabase(dir);
  migrate(db);
  upsertShift(db, { name: 'morning', start: '08:00', end: '16:00' });
  const ana = addUser(db, { code: 'ana', name: 'Ana, "la jefa"', shift: 'morning' });
  const ben = addUser(db, { code: 'ben', name: 'Ben' });
  const punches: [number, string, string, 'check_in' | 'check_out'][] = [
    [ana.id, '2026-11-30', '08:12', 'check_in'],
    [ana.id, '2026-11-30', '16:00', 'check_out'],
    [ben.id, '2026-11-30', '09:00', 'check_in'],
    [ana.id, '2026-12-01', '07:59', 'check_in'],
  ];
  punches.forEach(([userId, date, time, kind], i) => {
    const at = zonedTime(date, time, ZONE);
    insertAttendance(db, {
      id: uuidv7(at.getTime()),
      seq: i + 1,
      userId,
      kind,
      occurredAt: at.toISOString(),
      utcOffsetMin: utcOffsetMin(at, ZONE),
      shiftId: userId === ana.id ? 1 : null,
      shiftDay: userId === ana.id ? date : null,
      status: 'on_time',
      distance: 0.31,
      camera: 'door',
    });
  });
  db.close();
  return { PRESENTE_DATA_DIR: dir, PRESENTE_TERMINAL_TIMEZONE: ZONE };
}

describe('presente report', () => {
  it('prints CSV, JSON and a table for a range of days', async () => {
    const env = prepare();
    const range = ['report', '--from', '2026-11-30', '--to', '2026-12-01'];

    const csv = await runCli([...range, '--format', 'csv'], env);
    assert.equal(csv.code, 0, csv.stderr);
    assert.deepEqual(csv.stdout.trimEnd().split('\r\n'), [
      'day,user,name,shift,first_check_in,last_check_out,worked_min,hours_worked,late_min,' +
        'early_leave_min,missing_punches,state',
      '2026-11-30,ana,"Ana, ""la jefa""",morning,2026-11-30T08:12:00+01:00,' +
        '2026-11-30T16:00:00+01:00,468,7.8,12,0,0,complete',
      '2026-11-30,ben,Ben,,2026-11-30T09:00:00+01:00,,0,0,0,0,1,incomplete',
      '2026-12-01,ana,"Ana, ""la jefa""",morning,2026-12-01T07:59:00+01:00,,0,0,0,0,1,incomplete',
    ]);

    const json = await runCli([...range, '--user', 'ana', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as { user: string; late_min: number }[];
    assert.deepEqual(
      rows.map((r) => [r.user, r.late_min]),
      [
        ['ana', 12],
        ['ana', 0],
      ],
    );
    assert.deepEqual(findBiometrics(json.stdout), []);

    const text = await runCli([...range, '--format', 'table'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /2026-11-30\s+ana\s+morning\s+08:12\s+16:00\s+7:48\s+12/);
  });

  it('rejects bad dates, ranges, formats and users with a usage error', async () => {
    const env = prepare();
    const bad: [string[], RegExp][] = [
      [['--from', '2026-02-30', '--to', '2026-03-01'], /--from '2026-02-30': expected a date/],
      [['--from', '2026-03-02', '--to', '2026-03-01'], /is before --from/],
      [['--from', '2024-01-01', '--to', '2026-03-01'], /at most 367 days/],
      [['--to', '2026-03-01'], /--from DATE is required/],
      [['--from', '2026-03-01', '--to', '2026-03-01', '--format', 'xml'], /--format 'xml'/],
      [['--from', '2026-03-01', '--to', '2026-03-01', '--user', 'nobody'], /user 'nobody'/],
    ];
    for (const [args, message] of bad) {
      const result = await runCli(['report', ...args], env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    }
  });
});
