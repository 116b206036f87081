import type { Db } from './db.js';
import type { StoredDescriptor } from './templates.js';

export interface SealedTemplate extends StoredDescriptor {
  id: number;
}

export interface SealCount {
  /** null for descriptors stored unencrypted. */
  keyId: string | null;
  encrypted: boolean;
  count: number;
}

/** How many templates are stored under each key (and unencrypted). */
export function sealCounts(db: Db): SealCount[] {
  const rows = db
    .prepare(
      `SELECT key_id, nonce IS NOT NULL AS encrypted, count(*) AS n FROM face_templates
       GROUP BY key_id, nonce IS NOT NULL ORDER BY key_id`,
    )
    .all() as { key_id: string | null; encrypted: number; n: number }[];
  return rows.map((r) => ({ keyId: r.key_id, encrypted: r.encrypted === 1, count: r.n }));
}

const SELECT = 'SELECT id, descriptor, nonce, tag, key_id FROM face_templates';

interface Row {
  id: number;
  descriptor: Buffer;
  nonce: Buffer | null;
  tag: Buffer | null;
  key_id: string | null;
}

function fromRow(r: Row): SealedTemplate {
  return { id: r.id, descriptor: r.descriptor, nonce: r.nonce, tag: r.tag, keyId: r.key_id };
}

/** One encrypted template, to prove a key opens what is stored. */
export function anySealedTemplate(db: Db): SealedTemplate | undefined {
  const row = db.prepare(`${SELECT} WHERE nonce IS NOT NULL ORDER BY id LIMIT 1`).get() as
    | Row
    | undefined;
  return row && fromRow(row);
}

/** Every template of every user, active or not. */
export function allSealedTemplates(db: Db): SealedTemplate[] {
  return (db.prepare(`${SELECT} ORDER BY id`).all() as Row[]).map(fromRow);
}

export function replaceSeal(db: Db, id: number, stored: StoredDescriptor): void {
  db.prepare(
    'UPDATE face_templates SET descriptor = ?, nonce = ?, tag = ?, key_id = ? WHERE id = ?',
  ).run(stored.descriptor, stored.nonce, stored.tag, stored.keyId, id);
}
