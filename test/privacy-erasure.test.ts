import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateKey, openDescriptor, sealDescriptor, templateKey } from '../src/privacy/crypto.js';
import { eraseTemplate, eraseUser } from '../src/privacy/erase.js';
import { rekeyTemplates } from '../src/privacy/keys.js';
import { DATABASE_FILE, type Db, openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { insertTemplate, listTemplates, loadActiveTemplates } from '../src/store/templates.js';
import { addUser } from '../src/store/users.js';
import { runCli, tempDir } from './helpers.js';

/** A descriptor whose bytes occur nowhere else: random float32 values in the usual range. */
function randomDescriptor(): Float32Array {
  const noise = randomBytes(128);
  return Float32Array.from(noise, (b, i) => (b - 128) / 512 + i * 1e-6);
}

/** 16-byte windows of the descriptor: any one found in a file means it was not erased. */
function fragments(descriptor: Float32Array): Buffer[] {
  const bytes = Buffer.from(descriptor.buffer);
  const out: Buffer[] = [];
  for (let offset = 0; offset + 16 <= bytes.length; offset += 16) {
    out.push(bytes.subarray(offset, offset + 16));
  }
  return out;
}

function filesOf(dir: string): string[] {
  const db = join(dir, DATABASE_FILE);
  return [db, `${db}-wal`].filter((f) => existsSync(f));
}

function fragmentsFound(dir: string, descriptor: Float32Array): number {
  let found = 0;
  for (const file of filesOf(dir)) {
    const raw = readFileSync(file);
    for (const fragment of fragments(descriptor)) if (raw.includes(fragment)) found++;
  }
  return found;
}

function enroll(db: Db, code: string, count: number): Float32Array[] {
  const user = addUser(db, { code, name: code });
  const descriptors = Array.from({ length: count }, randomDescriptor);
  for (const d of descriptors) insertTemplate(db, user.id, sealDescriptor(d, null), 'test', {});
  return descriptors;
}

describe('erasure on the raw database file', () => {
  it('leaves none of a removed user’s descriptor bytes in the database or its WAL', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    migrate(db);
    const ana = enroll(db, 'ana', 3);
    // Part of the data in the main file, part still only in the WAL, as on a running terminal.
    db.pragma('wal_checkpoint(PASSIVE)');
    const kept = enroll(db, 'ben', 2);
    const late = enroll(db, 'carla', 1);

    // The test can see the bytes before erasure, so it would notice if they were not erased.
    for (const d of [...ana, ...kept, ...late]) assert.ok(fragmentsFound(dir, d) > 0);

    assert.equal(eraseUser(db, 'ana'), 'deleted');
    assert.equal(eraseUser(db, 'carla'), 'deleted');
    for (const d of [...ana, ...late]) assert.equal(fragmentsFound(dir, d), 0);
    for (const d of kept) assert.ok(fragmentsFound(dir, d) > 0, 'other users are untouched');

    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    for (const d of [...ana, ...late]) assert.equal(fragmentsFound(dir, d), 0);
  });

  it('erases a single template and keeps the others', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    migrate(db);
    const [first, second] = enroll(db, 'ana', 2) as [Float32Array, Float32Array];
    const id = listTemplates(db, 'ana')[0]!.id;

    assert.equal(eraseTemplate(db, id), true);
    assert.equal(fragmentsFound(dir, first), 0);
    assert.ok(fragmentsFound(dir, second) > 0);
    db.close();
  });

  it('leaves no plaintext descriptor on disk once the templates are encrypted', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    migrate(db);
    const plain = enroll(db, 'ana', 2);
    db.pragma('wal_checkpoint(PASSIVE)');
    for (const d of plain) assert.ok(fragmentsFound(dir, d) > 0);

    const key = templateKey(generateKey());
    rekeyTemplates(db, null, key);
    for (const d of plain) assert.equal(fragmentsFound(dir, d), 0);
    assert.deepEqual(
      loadActiveTemplates(db).map((row) => openDescriptor(row, key)),
      plain,
    );
    db.close();
  });

  it('erases through `presente users remove`', async () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    migrate(db);
    const [descriptor] = enroll(db, 'ana', 1) as [Float32Array];
    assert.ok(fragmentsFound(dir, descriptor) > 0);

    // The database stays open here, as the daemon keeps it while an operator removes someone:
    // the WAL outlives the command.
    const result = await runCli(['users', 'remove', 'ana'], { PRESENTE_DATA_DIR: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fragmentsFound(dir, descriptor), 0);
    db.close();
  });
});
