import type { StoredDescriptor } from '../store/templates.js';
import { blobToDescriptor, descriptorToBlob } from '../store/templates.js';

/**
 * Turns a descriptor into what is stored in face_templates, and back. With a key the
 * descriptor is sealed; without one it is stored as 128 little-endian float32 values.
 */
export interface TemplateKey {
  id: string;
  key: Buffer;
}

export function sealDescriptor(
  descriptor: Float32Array,
  key: TemplateKey | null,
): StoredDescriptor {
  if (key) throw new Error('descriptor encryption is not available in this build');
  return { descriptor: descriptorToBlob(descriptor), nonce: null, tag: null, keyId: null };
}

export function openDescriptor(stored: StoredDescriptor, key: TemplateKey | null): Float32Array {
  if (stored.nonce || key) throw new Error('descriptor encryption is not available in this build');
  return blobToDescriptor(stored.descriptor);
}
