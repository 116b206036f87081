import type { Db } from './db.js';

export const DESCRIPTOR_LENGTH = 128;

export interface TemplateQuality {
  score?: number;
  faceWidth?: number;
  sharpness?: number;
  yaw?: number;
  roll?: number;
}

export interface TemplateInfo {
  id: number;
  userCode: string;
  modelId: string;
  quality: TemplateQuality;
  encrypted: boolean;
  createdAt: string;
}

/** A stored descriptor as written to the BLOB column; sealing (encryption) happens above. */
export interface StoredDescriptor {
  descriptor: Buffer;
  nonce: Buffer | null;
  tag: Buffer | null;
  keyId: string | null;
}

export interface TemplateRow extends StoredDescriptor {
  id: number;
  userId: number;
  userCode: string;
  modelId: string;
}

export function descriptorToBlob(descriptor: Float32Array): Buffer {
  return Buffer.from(descriptor.buffer, descriptor.byteOffset, descriptor.byteLength);
}

export function blobToDescriptor(blob: Buffer): Float32Array {
  const copy = new Float32Array(blob.byteLength / 4);
  new Uint8Array(copy.buffer).set(blob);
  return copy;
}

export function insertTemplate(
  db: Db,
  userId: number,
  stored: StoredDescriptor,
  modelId: string,
  quality: TemplateQuality,
): number {
  const result = db
    .prepare(
      `INSERT INTO face_templates (user_id, descriptor, nonce, tag, key_id, model_id, quality)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      userId,
      stored.descriptor,
      stored.nonce,
      stored.tag,
      stored.keyId,
      modelId,
      JSON.stringify(quality),
    );
  return Number(result.lastInsertRowid);
}

export function listTemplates(db: Db, userCode?: string): TemplateInfo[] {
  const rows = db
    .prepare(
      `SELECT t.id, u.code AS user_code, t.model_id, t.quality, t.nonce IS NOT NULL AS encrypted,
         t.created_at
       FROM face_templates t JOIN users u ON u.id = t.user_id
       ${userCode ? 'WHERE u.code = ?' : ''} ORDER BY u.code, t.id`,
    )
    .all(...(userCode ? [userCode] : [])) as {
    id: number;
    user_code: string;
    model_id: string;
    quality: string;
    encrypted: number;
    created_at: string;
  }[];
  return rows.map((r) => ({
    id: r.id,
    userCode: r.user_code,
    modelId: r.model_id,
    quality: JSON.parse(r.quality) as TemplateQuality,
    encrypted: r.encrypted === 1,
    createdAt: r.created_at,
  }));
}

/** Every template of active users, for the matcher. */
export function loadActiveTemplates(db: Db): TemplateRow[] {
  const rows = db
    .prepare(
      `SELECT t.id, t.user_id, u.code AS user_code, t.model_id, t.descriptor, t.nonce, t.tag,
         t.key_id
       FROM face_templates t JOIN users u ON u.id = t.user_id
       WHERE u.active = 1 ORDER BY t.id`,
    )
    .all() as {
    id: number;
    user_id: number;
    user_code: string;
    model_id: string;
    descriptor: Buffer;
    nonce: Buffer | null;
    tag: Buffer | null;
    key_id: string | null;
  }[];
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    userCode: r.user_code,
    modelId: r.model_id,
    descriptor: r.descriptor,
    nonce: r.nonce,
    tag: r.tag,
    keyId: r.key_id,
  }));
}

/** Erases one template; returns false when it did not exist. */
export function removeTemplate(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM face_templates WHERE id = ?').run(id).changes > 0;
}

export function countTemplates(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM face_templates').get() as { n: number }).n;
}
