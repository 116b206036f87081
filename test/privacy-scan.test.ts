import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assertNoBiometrics, findBiometrics } from '../src/privacy/scan.js';
import { face } from './helpers.js';

const descriptor = Array.from({ length: 128 }, (_, i) => Math.round(Math.cos(i) * 1e4) / 1e5);
const jpeg = readFileSync(face('people/barack_obama/1.jpg'));
const png = readFileSync(face('people/alex_lacamoire/2.png'));
const webp = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([0x10, 0, 0, 0]),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(8),
]);

const attendanceEvent = {
  event_id: '01938a5e-7c1a-7b3e-8f00-0123456789ab',
  seq: 42,
  terminal_id: 'door-1',
  user: { code: 'ana', name: 'Ana Pérez' },
  kind: 'check_in',
  status: 'late',
  occurred_at: '2026-12-03T09:01:02.345+01:00',
  shift_day: '2026-12-03',
  shift: 'morning',
  distance: 0.3812,
  camera: 'door',
  model_version: 'face-api 1.7.15',
  software_version: '0.1.0',
  clock_synced: true,
};

describe('biometric scanner', () => {
  it('passes ordinary payloads', () => {
    assert.deepEqual(findBiometrics(attendanceEvent), []);
    assert.deepEqual(findBiometrics(JSON.stringify(attendanceEvent)), []);
    assert.deepEqual(findBiometrics({ rss_mb: 312, counts: [1, 2, 3, 4, 5, 6, 7, 8] }), []);
    assert.deepEqual(findBiometrics({ users: Array.from({ length: 200 }, (_, i) => `u${i}`) }), []);
    assertNoBiometrics(Buffer.from(JSON.stringify(attendanceEvent)));
  });

  const cases: [string, unknown, RegExp][] = [
    [
      'a descriptor array',
      { faces: [{ descriptor }] },
      /\$\.faces\[0\]\.descriptor: an array of 128/,
    ],
    ['a descriptor in JSON text', JSON.stringify({ descriptor }), /an array of 128 numbers/],
    ['a Float32Array', { d: Float32Array.from(descriptor) }, /typed array of 128/],
    ['a descriptor as a text list', { d: descriptor.join(', ') }, /text list of 128\+ numbers/],
    [
      'a descriptor as base64',
      { d: Buffer.from(Float32Array.from(descriptor).buffer).toString('base64') },
      /base64/,
    ],
    ['JPEG bytes', jpeg, /JPEG image bytes/],
    ['PNG bytes', png, /PNG image bytes/],
    ['WebP bytes', webp, /WebP image bytes/],
    ['a base64 JPEG', { crop: jpeg.toString('base64') }, /base64 JPEG/],
    ['a base64 PNG', { crop: png.toString('base64') }, /base64 PNG/],
    ['a base64 WebP', { crop: webp.toString('base64') }, /base64 WebP/],
    ['a data URL', { crop: `data:image/jpeg;base64,${jpeg.toString('base64')}` }, /data URL/],
    ['a hex JPEG', { crop: jpeg.subarray(0, 64).toString('hex') }, /hex-encoded JPEG/],
    ['JPEG inside a larger buffer', Buffer.concat([Buffer.from('xx'), jpeg]), /JPEG image bytes/],
  ];
  for (const [name, payload, expected] of cases) {
    it(`finds ${name}`, () => {
      const problems = findBiometrics(payload);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} in ${JSON.stringify(problems)}`,
      );
      assert.throws(() => assertNoBiometrics(payload), /biometric data in an outgoing payload/);
    });
  }
});
