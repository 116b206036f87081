import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { configSchema } from '../src/config/schema.js';
import { PresenteError } from '../src/errors.js';
import { silentLogger } from '../src/log.js';
import { type Db, openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { countTemplates, listTemplates } from '../src/store/templates.js';
import { addUser } from '../src/store/users.js';
import { getVisionEngine, type VisionEngine } from '../src/vision/engine.js';
import { enrollUser } from '../src/vision/enroll.js';
import { decodeImage, decodeImageFile, imageLimits } from '../src/vision/image.js';
import { face, tempDir } from './helpers.js';

const vision = configSchema.parse({}).vision;
const obama1 = face('people/barack_obama/1.jpg');
const obama2 = face('people/barack_obama/2.jpg');
const biden2 = face('people/joe_biden/2.jpg');

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header that claims 30000x30000 RGB pixels, followed by almost nothing. */
function hugePngHeader(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30000, 0);
  ihdr.writeUInt32BE(30000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('enrollment', () => {
  let engine: VisionEngine;
  let db: Db;
  const dir = tempDir();

  /** Enrolls and returns the refusal text, failing if the call succeeded. */
  async function refused(
    user: string,
    files: string[],
    options = {},
    settings = vision,
  ): Promise<string> {
    const before = countTemplates(db);
    const error = await enrollUser(db, engine, settings, null, user, files, options).then(
      () => assert.fail('enrollment was expected to be refused'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof PresenteError, String(error));
    assert.equal(countTemplates(db), before, 'nothing may be enrolled');
    return error.message;
  }

  before(async () => {
    engine = getVisionEngine(vision, silentLogger());
    db = openDatabase(dir);
    migrate(db);
    for (const code of ['obama', 'biden', 'other']) addUser(db, { code, name: code });
    await engine.load();
  });

  after(async () => {
    db.close();
    await engine.close();
  });

  it('enrolls several templates per user with their quality figures', async () => {
    const result = await enrollUser(db, engine, vision, null, 'obama', [obama1, obama2]);
    assert.equal(result.templates.length, 2);
    const stored = listTemplates(db, 'obama');
    assert.equal(stored.length, 2);
    for (const t of stored) {
      assert.equal(t.modelId, result.modelId);
      assert.ok((t.quality.faceWidth ?? 0) >= vision.enroll_min_face_px);
      assert.ok((t.quality.sharpness ?? 0) >= vision.enroll_min_sharpness);
    }
  });

  it('refuses a photo with no face', async () => {
    const file = join(dir, 'wall.jpg');
    await sharp({
      create: {
        width: 640,
        height: 480,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 20 },
      },
    })
      .jpeg()
      .toFile(file);
    assert.match(await refused('other', [file]), /wall\.jpg: no face found/);
  });

  it('refuses two faces, and takes the largest with --largest', async () => {
    const file = join(dir, 'two.jpg');
    const big = await sharp(biden2).resize({ height: 480 }).toBuffer();
    const small = await sharp(obama1).resize({ height: 300 }).toBuffer();
    await sharp({ create: { width: 1000, height: 480, channels: 3, background: '#ffffff' } })
      .composite([
        { input: big, left: 0, top: 0 },
        { input: small, left: 700, top: 90 },
      ])
      .jpeg()
      .toFile(file);

    assert.match(await refused('biden', [file]), /2 faces found; use --largest/);
    const result = await enrollUser(db, engine, vision, null, 'biden', [file], { largest: true });
    assert.equal(result.templates.length, 1);
  });

  it('refuses a tiny face', async () => {
    const file = join(dir, 'tiny.jpg');
    await sharp(obama1).resize({ width: 200 }).jpeg().toFile(file);
    assert.match(
      await refused('other', [file]),
      /face is \d+ px, smaller than vision\.enroll_min_face_px \(80\)/,
    );
  });

  it('refuses a blurred face', async () => {
    const file = join(dir, 'blurred.jpg');
    await sharp(obama1).blur(6).jpeg().toFile(file);
    assert.match(await refused('other', [file]), /face is blurred: sharpness [\d.]+ is below/);
  });

  it('refuses a face that matches another user unless forced', async () => {
    const message = await refused('other', [obama2]);
    assert.match(message, /matches user 'obama' \(distance [\d.]+ <= vision\.match_threshold/);
    assert.match(message, /use --force/);

    const forced = await enrollUser(db, engine, vision, null, 'other', [obama2], { force: true });
    assert.equal(forced.templates.length, 1);
  });

  it('refuses bad files with a clear reason each, enrolling none of the batch', async () => {
    const empty = join(dir, 'empty.jpg');
    writeFileSync(empty, '');
    const truncated = join(dir, 'truncated.jpg');
    const jpeg = readFileSync(obama1);
    writeFileSync(truncated, jpeg.subarray(0, Math.floor(jpeg.length * 0.4)));
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'this is not a picture\n');
    const huge = join(dir, 'huge.png');
    writeFileSync(huge, hugePngHeader());
    const missing = join(dir, 'missing.jpg');

    const message = await refused('other', [obama1, empty, truncated, text, huge, missing], {
      force: true,
    });
    assert.match(message, /empty\.jpg: the file is empty/);
    assert.match(message, /truncated\.jpg: cannot decode it/);
    assert.match(message, /notes\.jpg: not a JPEG, PNG or WebP image/);
    assert.match(message, /huge\.png: 900000000 pixels, more than vision\.max_image_pixels/);
    assert.match(message, /missing\.jpg: cannot read it \(ENOENT\)/);
    assert.doesNotMatch(message, /1\.jpg/, 'the good photo is not listed as refused');
  });

  it('refuses a file over the size limit before reading it', async () => {
    const small = { ...vision, max_image_bytes: 1000 };
    assert.match(
      await refused('other', [obama1], {}, small),
      /1\.jpg: \d+ bytes, more than vision\.max_image_bytes \(1000\)/,
    );
  });

  it('refuses an unknown user', async () => {
    await assert.rejects(
      enrollUser(db, engine, vision, null, 'nobody', [obama1]),
      /user 'nobody' does not exist/,
    );
  });
});

describe('image decoding', () => {
  const limits = imageLimits(vision);

  it('applies EXIF orientation', async () => {
    const rotated = await sharp(obama1).resize(100, 50).jpeg().withMetadata({ orientation: 6 });
    const image = await decodeImage(await rotated.toBuffer(), limits);
    assert.deepEqual([image.width, image.height], [50, 100]);
  });

  it('drops alpha and expands grey to RGB', async () => {
    const rgba = await decodeImageFile(face('scenes/rgba_32bit.png'), limits);
    assert.equal(rgba.data.length, rgba.width * rgba.height * 3);
    const grey = await sharp(obama1).resize(64).greyscale().png().toBuffer();
    const image = await decodeImage(grey, limits);
    assert.equal(image.data.length, image.width * image.height * 3);
  });

  it('refuses GIF and the like', async () => {
    const gif = await sharp(obama1).resize(32).gif().toBuffer();
    await assert.rejects(decodeImage(gif, limits, 'x.gif'), /gif images are not accepted/);
  });
});
