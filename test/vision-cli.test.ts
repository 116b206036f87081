import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/log.js';
import { getVisionEngine } from '../src/vision/engine.js';
import { cliInProcess } from './cli-in-process.js';
import { face, runCli, tempDir } from './helpers.js';

const dataDir = tempDir();
const env = { PRESENTE_DATA_DIR: dataDir, PRESENTE_CAMERA_SOURCE: 'images' };

/**
 * Runs a command in this process, sharing one engine across the file; enrollment runs the
 * real CLI once to show a separate process loads, prints JSON and exits on its own.
 */
function inProcess(args: string[]) {
  return cliInProcess(args, env);
}

describe('vision commands', () => {
  after(() => getVisionEngine(configSchema.parse({}).vision, silentLogger()).close());

  it('enrolls, identifies, embeds and compares with the documented JSON', async () => {
    assert.equal((await inProcess(['users', 'add', 'obama', '--name', 'Barack Obama'])).code, 0);

    const enrolled = await runCli(
      ['enroll', '--user', 'obama', face('people/barack_obama/1.jpg'), '--json'],
      env,
    );
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.equal(JSON.parse(enrolled.stdout).templates.length, 1);

    const text = join(dataDir, 'notes.jpg');
    writeFileSync(text, 'not an image');
    const identified = await inProcess([
      'identify',
      face('scenes/obama_small.jpg'),
      face('people/joe_biden/1.jpg'),
      text,
      '--json',
    ]);
    assert.equal(identified.code, 1, 'a file that cannot be read makes the exit code 1');
    assert.equal(identified.stderr, '', 'quiet in --json mode');
    const [obama, biden, bad] = JSON.parse(identified.stdout);
    assert.equal(obama.file, face('scenes/obama_small.jpg'));
    assert.equal(obama.faces.length, 1);
    assert.deepEqual(Object.keys(obama.faces[0]).sort(), [
      'box',
      'distance',
      'margin',
      'score',
      'user',
    ]);
    assert.deepEqual(Object.keys(obama.faces[0].box).sort(), ['height', 'width', 'x', 'y']);
    assert.equal(obama.faces[0].user, 'obama');
    assert.ok(obama.faces[0].distance < 0.55);
    assert.equal(obama.faces[0].margin, null, 'one user enrolled: no second user to compare');
    assert.equal(biden.faces[0].user, null);
    assert.ok(biden.faces[0].distance > 0.55);
    assert.match(bad.error, /not a JPEG, PNG or WebP image/);

    const embedded = await inProcess(['embed', face('scenes/obama_small.jpg'), '--json']);
    assert.equal(embedded.code, 0, embedded.stderr);
    const [entry] = JSON.parse(embedded.stdout);
    assert.deepEqual(Object.keys(entry.faces[0]).sort(), ['box', 'descriptor', 'score']);
    assert.equal(entry.faces[0].descriptor.length, 128);
    assert.ok(entry.faces[0].descriptor.every((v: unknown) => typeof v === 'number'));

    const same = await inProcess([
      'compare',
      face('scenes/obama_small.jpg'),
      face('scenes/obama_240p.jpg'),
      '--json',
    ]);
    assert.equal(same.code, 0, same.stderr);
    const result = JSON.parse(same.stdout);
    assert.deepEqual(Object.keys(result).sort(), ['distance', 'same']);
    assert.equal(result.same, true);
  });

  it('lists and removes templates without printing descriptors', async () => {
    const listed = await inProcess(['templates', 'list', '--json']);
    assert.equal(listed.code, 0);
    const templates = JSON.parse(listed.stdout);
    assert.equal(templates.length, 1);
    assert.doesNotMatch(listed.stdout, /descriptor/);

    const missing = await inProcess(['templates', 'remove', '999']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no template with id 999; nothing removed/);

    assert.equal((await inProcess(['templates', 'remove', String(templates[0].id)])).code, 0);
    assert.deepEqual(JSON.parse((await inProcess(['templates', 'list', '--json'])).stdout), []);
  });

  it('enrolls the photos of a folder, in name order', async () => {
    assert.equal((await inProcess(['users', 'add', 'rose', '--name', 'Rose Leslie'])).code, 0);
    const folder = face('people/rose_leslie');
    const result = await inProcess(['enroll', '--user', 'rose', folder, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const files = JSON.parse(result.stdout).templates.map((t: { file: string }) => t.file);
    assert.deepEqual(files, [join(folder, '1.jpg'), join(folder, '2.jpg')]);

    const empty = tempDir();
    const none = await inProcess(['enroll', '--user', 'rose', empty]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no photos to enroll/);
  });

  it('reports an enroll without --user as a usage error', async () => {
    const result = await inProcess(['enroll', face('people/barack_obama/1.jpg')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--user CODE is required/);
  });

  it('doctor checks models, backend, database and tools', async () => {
    const doctor = await inProcess(['doctor', '--json']);
    const report = JSON.parse(doctor.stdout);
    const names = report.checks.map((c: { name: string }) => c.name);
    for (const name of [
      'model ssd_mobilenetv1_model',
      'model face_landmark_68_model',
      'model face_recognition_model',
      'backend',
      'database',
      'data directory',
      'free memory',
      'ffmpeg',
      'camera devices',
    ]) {
      assert.ok(names.includes(name), name);
    }
    const backend = report.checks.find((c: { name: string }) => c.name === 'backend');
    assert.match(backend.detail, /^wasm \(simd (yes|no), threads (yes|no)\), detector ssd/);
    assert.equal(doctor.code, report.ok ? 0 : 1);
  });
});
