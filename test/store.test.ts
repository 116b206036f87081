import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recordPunch } from '../src/attendance/recorder.js';
import { PresenteError } from '../src/errors.js';
import { bundledSeedsDir, migrationsDir } from '../src/paths.js';
import { countAttendance } from '../src/store/attendance.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { pendingCount } from '../src/store/outbox.js';
import { listRoles } from '../src/store/roles.js';
import { seed } from '../src/store/seed.js';
import { findShift, listShifts, upsertShift } from '../src/store/shifts.js';
import { addUser, findUser, listUsers, removeUser } from '../src/store/users.js';
import { tempDir } from './helpers.js';

function freshDb() {
  const db = openDatabase(tempDir());
  migrate(db);
  return db;
}

function dump(db: ReturnType<typeof openDatabase>): string {
  const tables = ['roles', 'shifts', 'users', 'schema_migrations'];
  return JSON.stringify(tables.map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()));
}

describe('store', () => {
  it('opens with WAL, foreign keys, FULL sync and secure delete', () => {
    const db = freshDb();
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.equal(db.pragma('secure_delete', { simple: true }), 1);
    assert.ok(Number(db.pragma('busy_timeout', { simple: true })) > 0);
  });

  it('migrates and seeds twice to the same database', () => {
    const db = openDatabase(tempDir());
    assert.ok(migrate(db).applied.includes('0001_initial.sql'));
    const first = seed(db, bundledSeedsDir);
    assert.ok(first.changed.users > 0);
    const before = dump(db);
    assert.deepEqual(migrate(db).applied, []);
    const second = seed(db, bundledSeedsDir);
    assert.deepEqual(second.changed, { roles: 0, shifts: 0, users: 0 });
    assert.equal(dump(db), before);
  });

  it('refuses a migration file edited after it was applied', () => {
    const dir = join(tempDir(), 'migrations');
    cpSync(migrationsDir, dir, { recursive: true });
    const db = openDatabase(tempDir());
    migrate(db, dir);
    const file = join(dir, '0001_initial.sql');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- edited\n`);
    assert.throws(() => migrate(db, dir), /0001_initial\.sql was changed after it was applied/);
  });

  it('applies each migration in its own transaction and keeps a failed one out', () => {
    const dir = join(tempDir(), 'migrations');
    cpSync(migrationsDir, dir, { recursive: true });
    writeFileSync(
      join(dir, '9001_broken.sql'),
      'CREATE TABLE half (x);\nSELECT nonsense FROM nowhere;',
    );
    const db = openDatabase(tempDir());
    assert.throws(() => migrate(db, dir), /no such table: nowhere/);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE name = 'half'").all();
    assert.deepEqual(tables, []);
    const versions = db.prepare('SELECT version FROM schema_migrations').all();
    assert.ok(!versions.some((v) => (v as { version: number }).version === 9001));
  });

  it('refuses a data file that is not SQLite', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'presente.db'), 'this is not a database, just text '.repeat(200));
    assert.throws(() => openDatabase(dir), /not an SQLite database/);
  });

  it('refuses a data directory that cannot be one', () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, 'x');
    assert.throws(() => openDatabase(file), /data directory .*not a directory/);
    assert.throws(() => openDatabase(join(file, 'below')), /data directory .*cannot create it/);
  });

  it('names the file and line of a seed that names a missing role, and writes nothing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'roles.yaml'), '- name: staff\n');
    writeFileSync(
      join(dir, 'users.yaml'),
      '- code: a1\n  name: Ana\n  role: staff\n- code: b2\n  name: Bo\n  role: chef\n',
    );
    const db = freshDb();
    assert.throws(
      () => seed(db, dir),
      (err: Error) =>
        err instanceof PresenteError &&
        err.message.includes(`${join(dir, 'users.yaml')}:4`) &&
        err.message.includes("role 'chef'"),
    );
    assert.deepEqual(listUsers(db), []);
    assert.deepEqual(listRoles(db), []);
  });

  it('refuses a duplicate user code', () => {
    const db = freshDb();
    addUser(db, { code: 'u1', name: 'Una' });
    assert.throws(() => addUser(db, { code: 'u1', name: 'Other' }), /user 'u1' already exists/);
    assert.equal(listUsers(db).length, 1);
  });

  it('refuses a shift at 25:00 and accepts an overnight shift', () => {
    const db = freshDb();
    assert.throws(
      () => upsertShift(db, { name: 'bad', start: '25:00', end: '06:00' }),
      /CHECK constraint/,
    );
    upsertShift(db, { name: 'night', start: '22:00', end: '06:00', weekdays: ['mon', 'sun'] });
    const night = findShift(db, 'night')!;
    assert.equal(night.overnight, true);
    assert.deepEqual(night.weekdays, ['mon', 'sun']);
    assert.equal(listShifts(db).length, 1);
  });

  it('deactivates a removed user who has attendance and leaves no dangling row', () => {
    const db = freshDb();
    const user = addUser(db, { code: 'w1', name: 'Wanda' });
    const ctx = { terminalId: 't1', timeZone: 'UTC', modelVersion: 'm', clockSynced: () => true };
    recordPunch(db, ctx, {
      userId: user.id,
      userCode: user.code,
      userName: user.name,
      kind: 'check_in',
      status: 'on_time',
      occurredAt: new Date('2026-12-01T08:00:00Z'),
      shiftId: null,
      shiftName: null,
      shiftDay: null,
      distance: 0.3,
      camera: 'door',
    });
    assert.equal(removeUser(db, 'w1'), 'deactivated');
    assert.equal(findUser(db, 'w1')?.active, false);
    assert.equal(countAttendance(db), 1);
    assert.equal(pendingCount(db), 1);
    assert.deepEqual(db.pragma('foreign_key_check'), []);

    addUser(db, { code: 'x2', name: 'Xavi' });
    assert.equal(removeUser(db, 'x2'), 'deleted');
    assert.equal(findUser(db, 'x2'), undefined);
  });

  it('gives seq values that only grow across reopening', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const ctx = { terminalId: 't1', timeZone: 'UTC', modelVersion: 'm', clockSynced: () => true };
    const seqs: number[] = [];
    for (let round = 0; round < 2; round++) {
      const db = openDatabase(dir);
      migrate(db);
      const user = findUser(db, 'z') ?? addUser(db, { code: 'z', name: 'Zoe' });
      for (let i = 0; i < 3; i++) {
        const event = recordPunch(db, ctx, {
          userId: user.id,
          userCode: 'z',
          userName: 'Zoe',
          kind: 'check_in',
          status: 'on_time',
          occurredAt: new Date(),
          shiftId: null,
          shiftName: null,
          shiftDay: null,
          distance: 0.2,
          camera: 'door',
        });
        seqs.push(event.seq);
      }
      db.close();
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
  });
});
