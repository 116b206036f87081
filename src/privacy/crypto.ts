import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { ExitCode, PresenteError } from '../errors.js';
import type { StoredDescriptor } from '../store/templates.js';
import { blobToDescriptor, DESCRIPTOR_LENGTH, descriptorToBlob } from '../store/templates.js';

/**
 * Turns a descriptor into what is stored in face_templates, and back. With a key the
 * descriptor is sealed with AES-256-GCM under a fresh random nonce per row; without one it is
 * stored as 128 little-endian float32 values.
 */
export interface TemplateKey {
  /** Short fingerprint of the key, stored beside each sealed row to name the key it needs. */
  id: string;
  key: Buffer;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Binds every ciphertext to its purpose, so it cannot be passed off as another kind of data. */
const ASSOCIATED_DATA = Buffer.from('presente face template v1');

/** The fingerprint is a hash of the key, never the key itself, so it is safe to store. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('presente key id').update(key).digest('hex').slice(0, 16);
}

export function templateKey(key: Buffer): TemplateKey {
  if (key.length !== KEY_BYTES) {
    throw new PresenteError(`a template key is ${KEY_BYTES} bytes, got ${key.length}`);
  }
  return { id: keyId(key), key };
}

/** A new random key, as `openssl rand 32` would give. */
export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Reads a key file: 32 raw bytes, or the same as 64 hex digits or base64 text (what
 * `openssl rand -hex 32` and `openssl rand -base64 32` print).
 */
export function readKeyFile(file: string): TemplateKey {
  const path = resolve(file);
  let raw: Buffer;
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    raw = readFileSync(path);
  } catch (err) {
    throw new PresenteError(
      `privacy.template_key_file ${path}: cannot read it (${(err as Error).message}); ` +
        'the face templates cannot be opened without it',
      ExitCode.config,
    );
  }
  if (raw.length === KEY_BYTES) return templateKey(raw);

  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return templateKey(Buffer.from(text, 'hex'));
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) {
    const decoded = Buffer.from(text, 'base64');
    if (decoded.length === KEY_BYTES) return templateKey(decoded);
  }
  throw new PresenteError(
    `privacy.template_key_file ${path}: expected 32 random bytes, 64 hex digits or 44 base64 ` +
      `characters (${raw.length} bytes found); create one with: openssl rand -hex 32 > ${path}`,
    ExitCode.config,
  );
}

/** The configured template key, or null when descriptors are stored unencrypted. */
export function loadTemplateKey(config: Pick<Config, 'privacy'>): TemplateKey | null {
  const file = config.privacy.template_key_file;
  return file ? readKeyFile(file) : null;
}

export function sealDescriptor(
  descriptor: Float32Array,
  key: TemplateKey | null,
): StoredDescriptor {
  const plain = descriptorToBlob(descriptor);
  if (!key) return { descriptor: Buffer.from(plain), nonce: null, tag: null, keyId: null };

  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(ASSOCIATED_DATA);
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { descriptor: sealed, nonce, tag: cipher.getAuthTag(), keyId: key.id };
}

/**
 * Opens a stored descriptor. A sealed row without a key, with another key, or whose tag does
 * not verify is an error: a descriptor decrypted with the wrong key would be random numbers
 * that silently never match anyone.
 */
export function openDescriptor(stored: StoredDescriptor, key: TemplateKey | null): Float32Array {
  if (!stored.nonce) return checkedLength(blobToDescriptor(stored.descriptor));

  if (!key) {
    throw new PresenteError(
      'face templates are encrypted but privacy.template_key_file is not set; ' +
        'configure the key file they were sealed with',
      ExitCode.config,
    );
  }
  if (stored.keyId && stored.keyId !== key.id) {
    throw new PresenteError(
      `face templates were sealed with key ${stored.keyId} but privacy.template_key_file ` +
        `holds key ${key.id}; configure the right key file`,
      ExitCode.config,
    );
  }
  if (!stored.tag) throw new PresenteError('a sealed face template has no tag: the row is damaged');

  try {
    const decipher = createDecipheriv(ALGORITHM, key.key, stored.nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(ASSOCIATED_DATA);
    decipher.setAuthTag(stored.tag);
    const plain = Buffer.concat([decipher.update(stored.descriptor), decipher.final()]);
    return checkedLength(blobToDescriptor(plain));
  } catch (err) {
    throw new PresenteError(
      'a face template does not decrypt with the configured key (wrong key or damaged row)',
      ExitCode.config,
      { cause: err },
    );
  }
}

function checkedLength(descriptor: Float32Array): Float32Array {
  if (descriptor.length !== DESCRIPTOR_LENGTH) {
    throw new PresenteError(
      `a face template holds ${descriptor.length} values, expected ${DESCRIPTOR_LENGTH}`,
    );
  }
  return descriptor;
}
