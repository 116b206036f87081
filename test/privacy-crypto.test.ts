import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PresenteError } from '../src/errors.js';
import {
  generateKey,
  loadTemplateKey,
  openDescriptor,
  readKeyFile,
  sealDescriptor,
  templateKey,
} from '../src/privacy/crypto.js';
import { checkTemplateKey, rekeyTemplates } from '../src/privacy/keys.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { allSealedTemplates } from '../src/store/templateSeals.js';
import { insertTemplate, loadActiveTemplates } from '../src/store/templates.js';
import { addUser } from '../src/store/users.js';
import { runCli, tempDir } from './helpers.js';

function descriptor(seed: number): Float32Array {
  return Float32Array.from({ length: 128 }, (_, i) => Math.sin(seed * 1000 + i) / 4);
}

function freshStore() {
  const dir = tempDir();
  const db = openDatabase(dir);
  migrate(db);
  const user = addUser(db, { code: 'ana', name: 'Ana Pérez' });
  return { dir, db, userId: user.id };
}

describe('descriptor encryption', () => {
  it('round-trips a descriptor, with a fresh nonce for every row', () => {
    const key = templateKey(generateKey());
    const original = descriptor(1);
    const a = sealDescriptor(original, key);
    const b = sealDescriptor(original, key);

    assert.equal(a.keyId, key.id);
    assert.equal(a.nonce?.length, 12);
    assert.equal(a.tag?.length, 16);
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.descriptor, b.descriptor);
    assert.ok(!a.descriptor.includes(Buffer.from(original.buffer).subarray(0, 16)));
    assert.deepEqual(openDescriptor(a, key), original);
    assert.deepEqual(openDescriptor(b, key), original);
  });

  it('stores plain float32 without a key', () => {
    const stored = sealDescriptor(descriptor(2), null);
    assert.equal(stored.nonce, null);
    assert.equal(stored.descriptor.length, 512);
    assert.deepEqual(openDescriptor(stored, null), descriptor(2));
  });

  it('refuses a wrong key, a missing key and a tampered row with a clear error', () => {
    const key = templateKey(generateKey());
    const other = templateKey(generateKey());
    const stored = sealDescriptor(descriptor(3), key);

    assert.throws(() => openDescriptor(stored, other), /sealed with key .* holds key/);
    assert.throws(() => openDescriptor(stored, null), /template_key_file is not set/);
    // Same key id but other bytes: only the tag can tell.
    assert.throws(
      () => openDescriptor({ ...stored, keyId: null }, other),
      /does not decrypt with the configured key/,
    );
    const tampered = Buffer.from(stored.descriptor);
    tampered[5] = (tampered[5] ?? 0) ^ 1;
    assert.throws(
      () => openDescriptor({ ...stored, descriptor: tampered }, key),
      (err: unknown) => err instanceof PresenteError && /wrong key or damaged/.test(err.message),
    );
  });

  it('reads raw, hex and base64 key files and rejects anything else', () => {
    const dir = tempDir();
    const key = generateKey();
    const raw = join(dir, 'raw.key');
    const hex = join(dir, 'hex.key');
    const b64 = join(dir, 'b64.key');
    const bad = join(dir, 'bad.key');
    writeFileSync(raw, key);
    writeFileSync(hex, `${key.toString('hex')}\n`);
    writeFileSync(b64, `${key.toString('base64')}\n`);
    writeFileSync(bad, 'secret\n');

    const expected = templateKey(key).id;
    assert.equal(readKeyFile(raw).id, expected);
    assert.equal(readKeyFile(hex).id, expected);
    assert.equal(readKeyFile(b64).id, expected);
    assert.throws(() => readKeyFile(bad), /expected 32 random bytes.*openssl rand -hex 32/);
    assert.throws(() => readKeyFile(join(dir, 'missing.key')), /cannot read it/);
    assert.equal(loadTemplateKey({ privacy: { template_key_file: '' } }), null);
  });
});

describe('template key at start', () => {
  it('accepts the right key and rejects a missing or wrong one before any match', () => {
    const { db, userId } = freshStore();
    const key = templateKey(generateKey());
    insertTemplate(db, userId, sealDescriptor(descriptor(4), key), 'test', {});
    insertTemplate(db, userId, sealDescriptor(descriptor(5), null), 'test', {});

    assert.deepEqual(checkTemplateKey(db, key), { encrypted: 1, unencrypted: 1 });
    assert.throws(() => checkTemplateKey(db, null), /1 face templates are encrypted/);
    assert.throws(
      () => checkTemplateKey(db, templateKey(generateKey())),
      /sealed with key .* configure the right key file/,
    );
    db.close();
  });
});

describe('rekey', () => {
  it('re-seals every template under the new key in one transaction', () => {
    const { db, userId } = freshStore();
    const oldKey = templateKey(generateKey());
    const newKey = templateKey(generateKey());
    insertTemplate(db, userId, sealDescriptor(descriptor(6), oldKey), 'test', {});
    insertTemplate(db, userId, sealDescriptor(descriptor(7), null), 'test', {});

    const result = rekeyTemplates(db, oldKey, newKey);
    assert.deepEqual(result, { templates: 2, fromKey: oldKey.id, toKey: newKey.id });
    const rows = loadActiveTemplates(db);
    assert.ok(rows.every((r) => r.keyId === newKey.id && r.nonce !== null));
    assert.deepEqual(openDescriptor(rows[0]!, newKey), descriptor(6));
    assert.deepEqual(openDescriptor(rows[1]!, newKey), descriptor(7));
    assert.throws(() => checkTemplateKey(db, oldKey), /sealed with key/);
    db.close();
  });

  it('changes nothing when the current key is wrong', () => {
    const { db, userId } = freshStore();
    const key = templateKey(generateKey());
    insertTemplate(db, userId, sealDescriptor(descriptor(8), null), 'test', {});
    insertTemplate(db, userId, sealDescriptor(descriptor(9), key), 'test', {});
    const before = allSealedTemplates(db);

    assert.throws(
      () => rekeyTemplates(db, templateKey(generateKey()), templateKey(generateKey())),
      /sealed with key/,
    );
    assert.deepEqual(allSealedTemplates(db), before);
    db.close();
  });
});

describe('presente templates rekey', () => {
  it('moves every template to the new key, and refuses a wrong current key', async () => {
    const { dir, db, userId } = freshStore();
    const oldKey = generateKey();
    const newKey = generateKey();
    const oldFile = join(dir, 'old.key');
    const newFile = join(dir, 'new.key');
    const badFile = join(dir, 'bad.key');
    writeFileSync(oldFile, oldKey.toString('hex'));
    writeFileSync(newFile, newKey);
    writeFileSync(badFile, 'not a key');
    insertTemplate(db, userId, sealDescriptor(descriptor(10), templateKey(oldKey)), 'test', {});
    insertTemplate(db, userId, sealDescriptor(descriptor(11), null), 'test', {});
    const env = { PRESENTE_DATA_DIR: dir, PRESENTE_PRIVACY_TEMPLATE_KEY_FILE: oldFile };

    const bad = await runCli(['templates', 'rekey', '--new-key', badFile], env);
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /bad.key: expected 32 random bytes/);

    const result = await runCli(['templates', 'rekey', '--new-key', newFile, '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      templates: 2,
      fromKey: templateKey(oldKey).id,
      toKey: templateKey(newKey).id,
    });
    assert.deepEqual(checkTemplateKey(db, templateKey(newKey)), { encrypted: 2, unencrypted: 0 });
    const rows = loadActiveTemplates(db);
    assert.deepEqual(openDescriptor(rows[0]!, templateKey(newKey)), descriptor(10));

    // The configuration still names the old key: nothing may change.
    const before = allSealedTemplates(db);
    const again = await runCli(['templates', 'rekey', '--new-key', oldFile], env);
    assert.equal(again.code, 78);
    assert.match(again.stderr, /sealed with key .* configure the right key file/);
    assert.deepEqual(allSealedTemplates(db), before);
    db.close();
  });
});

describe('presente run with a template key', () => {
  it('stops at start, before the model loads, when the key is wrong or missing', async () => {
    const { dir, db, userId } = freshStore();
    const keyFile = join(dir, 'right.key');
    const wrongFile = join(dir, 'wrong.key');
    writeFileSync(keyFile, generateKey());
    writeFileSync(wrongFile, generateKey());
    insertTemplate(db, userId, sealDescriptor(descriptor(12), readKeyFile(keyFile)), 'test', {});
    db.close();
    const env = {
      PRESENTE_DATA_DIR: dir,
      PRESENTE_HTTP_ENABLED: 'false',
      PRESENTE_LOG_FORMAT: 'json',
    };

    const wrong = await runCli(['run'], { ...env, PRESENTE_PRIVACY_TEMPLATE_KEY_FILE: wrongFile });
    assert.equal(wrong.code, 78, wrong.stderr);
    assert.match(wrong.stdout + wrong.stderr, /sealed with key .* configure the right key file/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /model loaded|templates loaded/);

    const unset = await runCli(['run'], env);
    assert.equal(unset.code, 78, unset.stderr);
    assert.match(unset.stdout + unset.stderr, /encrypted but privacy.template_key_file is not set/);

    const missing = join(dir, 'gone.key');
    const gone = await runCli(['run'], { ...env, PRESENTE_PRIVACY_TEMPLATE_KEY_FILE: missing });
    assert.equal(gone.code, 78, gone.stderr);
    assert.match(gone.stdout + gone.stderr, /gone.key: cannot read it/);
  });
});
