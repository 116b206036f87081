import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../src/camera/frame.js';
import { type Config, configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/log.js';
import { bundledSeedsDir, packageRoot } from '../src/paths.js';
import { sealDescriptor } from '../src/privacy/crypto.js';
import { type Db, openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { seed } from '../src/store/seed.js';
import { insertTemplate } from '../src/store/templates.js';
import { findUser } from '../src/store/users.js';
import { getVisionEngine, type VisionEngine } from '../src/vision/engine.js';

/** Enrollment photos as a camera would give them: decoded to RGB, at most 1024 px wide. */
async function decodePhoto(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .resize(1024, 1024, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): Config {
  const sections: Record<string, Record<string, unknown>> = { data: { dir: dataDir } };
  for (const [path, value] of Object.entries(overrides)) {
    const [section, key] = path.split('.') as [string, string];
    sections[section] = { ...sections[section], [key]: value };
  }
  return configSchema.parse(sections);
}

/**
 * A migrated, seeded database with every person of test/fixtures/faces/people enrolled from
 * their photos through the real engine: the largest face of each photo becomes a template.
 */
export async function enrolledDatabase(
  config: Config,
): Promise<{ db: Db; engine: VisionEngine; modelId: string }> {
  const db = openDatabase(config.data.dir);
  migrate(db);
  seed(db, bundledSeedsDir);
  const engine = getVisionEngine(config.vision, silentLogger());
  const info = await engine.load();

  const peopleDir = join(packageRoot, 'test', 'fixtures', 'faces', 'people');
  for (const person of readdirSync(peopleDir).sort()) {
    const user = findUser(db, person);
    if (!user) throw new Error(`no seeded user for ${person}`);
    for (const photo of readdirSync(join(peopleDir, person)).sort()) {
      const image = await decodePhoto(join(peopleDir, person, photo));
      const faces = await engine.analyze(image, { minFacePx: 0 });
      const largest = faces
        .filter((f) => f.descriptor)
        .sort((a, b) => b.box.width - a.box.width)[0];
      if (!largest?.descriptor) throw new Error(`no face in ${person}/${photo}`);
      insertTemplate(db, user.id, sealDescriptor(largest.descriptor, null), info.modelId, {
        score: largest.score,
        faceWidth: largest.box.width,
      });
    }
  }
  return { db, engine, modelId: info.modelId };
}
