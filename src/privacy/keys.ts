import { ExitCode, PresenteError } from '../errors.js';
import type { Db } from '../store/db.js';
import { truncateWal } from '../store/erasure.js';
import {
  allSealedTemplates,
  anySealedTemplate,
  replaceSeal,
  sealCounts,
} from '../store/templateSeals.js';
import { openDescriptor, sealDescriptor, type TemplateKey } from './crypto.js';

export interface KeyCheck {
  encrypted: number;
  unencrypted: number;
}

/**
 * Proves at start that the configured key opens the stored templates: a missing or wrong key
 * is an error now, not a matcher that silently recognises nobody. Unencrypted templates under
 * a configured key are allowed (they were enrolled before the key) and counted, so the caller
 * can say that `presente templates rekey` encrypts them.
 */
export function checkTemplateKey(db: Db, key: TemplateKey | null): KeyCheck {
  const counts = sealCounts(db);
  const encrypted = counts.filter((c) => c.encrypted);
  const unencrypted = counts.filter((c) => !c.encrypted).reduce((n, c) => n + c.count, 0);
  const total = encrypted.reduce((n, c) => n + c.count, 0);
  if (total === 0) return { encrypted: 0, unencrypted };

  if (!key) {
    throw new PresenteError(
      `${total} face templates are encrypted but privacy.template_key_file is not set; ` +
        'configure the key file they were sealed with',
      ExitCode.config,
    );
  }
  const foreign = encrypted.filter((c) => c.keyId !== key.id);
  if (foreign.length > 0) {
    const ids = foreign.map((c) => `${c.keyId ?? 'unknown'} (${c.count})`).join(', ');
    throw new PresenteError(
      `face templates are sealed with key ${ids}, but privacy.template_key_file holds key ` +
        `${key.id}; configure the right key file`,
      ExitCode.config,
    );
  }

  const sample = anySealedTemplate(db);
  if (sample) openDescriptor(sample, key);
  return { encrypted: total, unencrypted };
}

export interface RekeyResult {
  templates: number;
  fromKey: string | null;
  toKey: string | null;
}

/**
 * Re-seals every template under a new key (or none) in one transaction: every row is opened
 * with the current key before anything is written, so a wrong current key changes nothing.
 */
export function rekeyTemplates(
  db: Db,
  currentKey: TemplateKey | null,
  newKey: TemplateKey | null,
): RekeyResult {
  const templates = db
    .transaction(() => {
      const rows = allSealedTemplates(db);
      const opened = rows.map((row) => ({
        id: row.id,
        descriptor: openDescriptor(row, currentKey),
      }));
      for (const { id, descriptor } of opened) {
        replaceSeal(db, id, sealDescriptor(descriptor, newKey));
        descriptor.fill(0);
      }
      return rows.length;
    })
    .immediate();

  // The old ciphertexts are still in WAL frames until the log is truncated.
  truncateWal(db);
  return { templates, fromKey: currentKey?.id ?? null, toKey: newKey?.id ?? null };
}
