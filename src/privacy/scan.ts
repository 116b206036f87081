/**
 * Looks for biometric data in something about to leave the terminal (an MQTT payload, a log
 * line, a report): face descriptors show up as long runs of numbers, faces as image bytes.
 * A descriptor is 128 numbers; anything of 64 or more is treated as one.
 */

export const MIN_VECTOR_LENGTH = 64;
/** Base64 runs this long decode to 384 bytes or more: no payload field needs that much binary. */
const LONG_BASE64_CHARS = 512;

/** 64 or more numbers in a row, separated by commas, semicolons or spaces. */
const NUMBER_LIST = new RegExp(
  `(?:-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?(?:,\\s*|;\\s*|\\s+)){${MIN_VECTOR_LENGTH - 1},}-?\\d`,
);

const SIGNATURES: { name: string; bytes: number[] }[] = [
  { name: 'JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
];

function imageAt(bytes: Uint8Array, offset: number): string | undefined {
  for (const { name, bytes: signature } of SIGNATURES) {
    if (signature.every((b, i) => bytes[offset + i] === b)) return name;
  }
  const riff = [0x52, 0x49, 0x46, 0x46].every((b, i) => bytes[offset + i] === b);
  const webp = [0x57, 0x45, 0x42, 0x50].every((b, i) => bytes[offset + 8 + i] === b);
  return riff && webp ? 'WebP image' : undefined;
}

/** An image signature anywhere in the bytes. */
function findImage(bytes: Uint8Array): string | undefined {
  for (let offset = 0; offset < bytes.length; offset++) {
    const found = imageAt(bytes, offset);
    if (found) return found;
  }
  return undefined;
}

function scanString(text: string, path: string, problems: string[]): void {
  if (/data:image\//i.test(text)) problems.push(`${path}: an image data URL`);

  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) {
    const bytes = Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    const image = imageAt(bytes, 0);
    if (image) problems.push(`${path}: a base64 ${image}`);
    else if (run.length >= LONG_BASE64_CHARS) {
      problems.push(`${path}: ${run.length} characters of base64 (binary data)`);
    }
  }

  for (const run of text.match(/[0-9a-fA-F]{16,}/g) ?? []) {
    const image = imageAt(Buffer.from(run.slice(0, 24), 'hex'), 0);
    if (image) problems.push(`${path}: a hex-encoded ${image}`);
  }

  const list = text.match(NUMBER_LIST);
  if (list) problems.push(`${path}: a text list of ${list[0].split(/[,;\s]+/).length}+ numbers`);

  const trimmed = text.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && trimmed.length > 1) {
    try {
      walk(JSON.parse(trimmed), path, problems);
    } catch {
      // Not JSON after all: the text checks above are all it gets.
    }
  }
}

function walk(value: unknown, path: string, problems: string[]): void {
  if (typeof value === 'string') {
    scanString(value, path, problems);
    return;
  }
  if (value === null || typeof value !== 'object') return;

  if (value instanceof Uint8Array) {
    const image = findImage(value);
    if (image) problems.push(`${path}: ${image} bytes`);
    else scanString(Buffer.from(value).toString('latin1'), path, problems);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? 0;
    if (length >= MIN_VECTOR_LENGTH) problems.push(`${path}: a typed array of ${length} numbers`);
    return;
  }
  if (Array.isArray(value)) {
    const numbers = value.filter((v) => typeof v === 'number').length;
    if (numbers >= MIN_VECTOR_LENGTH) {
      problems.push(`${path}: an array of ${numbers} numbers`);
      return;
    }
    value.forEach((item, i) => {
      walk(item, `${path}[${i}]`, problems);
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`, problems);
}

/** Every place in the payload that looks biometric, one line each; empty when clean. */
export function findBiometrics(payload: unknown): string[] {
  const problems: string[] = [];
  walk(payload, '$', problems);
  return [...new Set(problems)];
}

export class BiometricDataError extends Error {
  constructor(readonly problems: string[]) {
    super(`biometric data in an outgoing payload: ${problems.join('; ')}`);
    this.name = 'BiometricDataError';
  }
}

/** Throws when the payload carries anything that looks like a descriptor or an image. */
export function assertNoBiometrics(payload: unknown): void {
  const problems = findBiometrics(payload);
  if (problems.length > 0) throw new BiometricDataError(problems);
}
