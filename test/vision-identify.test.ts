import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/log.js';
import { type Db, openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { addUser } from '../src/store/users.js';
import { getVisionEngine, type VisionEngine } from '../src/vision/engine.js';
import { enrollUser } from '../src/vision/enroll.js';
import { decodeImageFile, imageLimits } from '../src/vision/image.js';
import { Matcher, matchSettings } from '../src/vision/matcher.js';
import { face, root, tempDir } from './helpers.js';

// Every scene and who is in it, as the fixture README lists them.
const scenes: Record<string, string[]> = {
  'obama_alone.jpg': ['barack_obama'],
  'obama_3.jpg': ['barack_obama'],
  'obama_240p.jpg': ['barack_obama'],
  'obama_480p.jpg': ['barack_obama'],
  'obama_720p.jpg': ['barack_obama'],
  'obama_1080p.jpg': ['barack_obama'],
  'obama_small.jpg': ['barack_obama'],
  'obama_partial_face.jpg': ['barack_obama'],
  'obama_partial_face_2.jpg': ['barack_obama'],
  'alex_lacamoire_alone.jpg': ['alex_lacamoire'],
  'kit_harington_alone.jpg': ['kit_harington'],
  'kit_harington_and_rose_leslie.jpg': ['kit_harington', 'rose_leslie'],
  'barack_obama_and_joe_biden.jpg': ['barack_obama', 'joe_biden'],
  'joe_biden_and_barack_obama_2.jpg': ['barack_obama', 'joe_biden'],
  'rgba_32bit.png': ['barack_obama'],
};

const vision = configSchema.parse({}).vision;
const samples = join(root, 'node_modules', '@vladmandic', 'face-api', 'demo');

describe('identification with the default settings', () => {
  let engine: VisionEngine;
  let db: Db;
  const dataDir = tempDir();
  let matcher: Matcher;

  async function identify(file: string): Promise<(string | null)[]> {
    const image = await decodeImageFile(file, imageLimits(vision));
    const faces = await engine.analyze(image);
    return faces.map((f) => (f.descriptor ? matcher.match(f.descriptor).userCode : null));
  }

  before(async () => {
    engine = getVisionEngine(vision, silentLogger());
    db = openDatabase(dataDir);
    migrate(db);
    for (const person of readdirSync(face('people'))) {
      addUser(db, { code: person, name: person });
      const photos = readdirSync(face(`people/${person}`)).map((f) =>
        face(`people/${person}/${f}`),
      );
      await enrollUser(db, engine, vision, null, person, photos);
    }
    const { modelId } = await engine.load();
    matcher = Matcher.fromStore(db, null, matchSettings(vision), modelId);
  });

  after(async () => {
    db.close();
    await engine.close();
  });

  it('enrolled every photo of people/', () => {
    assert.equal(matcher.size, 11);
    assert.equal(matcher.users, 6);
  });

  it('covers every scene in the fixtures', () => {
    assert.deepEqual(readdirSync(face('scenes')).sort(), Object.keys(scenes).sort());
  });

  for (const [file, people] of Object.entries(scenes)) {
    it(`finds ${people.join(' and ')} in ${file} and nobody else`, async () => {
      const found = await identify(face(`scenes/${file}`));
      for (const person of people) assert.ok(found.includes(person), `${person}: ${found}`);
      for (const code of found) {
        assert.ok(code === null || people.includes(code), `wrong code ${code} in ${file}`);
      }
    });
  }

  it('leaves every face of the face-api sample group photos unknown', async () => {
    let faces = 0;
    for (let i = 1; i <= 6; i++) {
      const found = await identify(join(samples, `sample${i}.jpg`));
      faces += found.length;
      assert.deepEqual(
        found.filter((code) => code !== null),
        [],
        `sample${i}.jpg`,
      );
    }
    // The photos hold about 22 faces; finding most of them keeps this test meaningful.
    assert.ok(faces >= 18, `only ${faces} faces found`);
  });
});
