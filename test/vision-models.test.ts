import assert from 'node:assert/strict';
import { appendFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/log.js';
import { createVisionEngine } from '../src/vision/engine.js';
import { bundledModelsDir, verifyModel } from '../src/vision/models.js';
import { face, tempDir } from './helpers.js';

// Separate engines on purpose: these are the ways a load can fail or differ, each in its
// own worker. The one-load rule is tested with the process-wide engine elsewhere.

function copyModels(): string {
  const dir = join(tempDir(), 'models');
  cpSync(bundledModelsDir(), dir, { recursive: true });
  return dir;
}

const settings = (values: Record<string, unknown>) =>
  configSchema.parse({ vision: { detector: 'tiny', input_size: 128, ...values } }).vision;

describe('model files and backends', () => {
  it('accepts the bundled models against models/SHA256SUMS', () => {
    const model = verifyModel(bundledModelsDir(), 'face_recognition_model');
    assert.equal(model.weightFiles.length, 1);
    assert.match(model.weightFiles[0]!.sha256, /^b413e420/);
  });

  it('refuses a model file that does not match its sum, naming the file', async () => {
    const dir = copyModels();
    appendFileSync(join(dir, 'face_landmark_68_model.bin'), Buffer.from([0]));
    const engine = createVisionEngine(settings({ models_dir: dir }), silentLogger());
    await assert.rejects(
      engine.load(),
      /model file .*face_landmark_68_model\.bin does not match its checksum/,
    );
    await assert.rejects(engine.analyze({ width: 1, height: 1, data: Buffer.alloc(3) }));
  });

  it('refuses a missing model file, naming the file', async () => {
    const dir = copyModels();
    rmSync(join(dir, 'tiny_face_detector_model.bin'));
    const engine = createVisionEngine(settings({ models_dir: dir }), silentLogger());
    await assert.rejects(engine.load(), /model file missing: .*tiny_face_detector_model\.bin/);
  });

  it('fails clearly when tfjs-node is asked for and not installed', async () => {
    const engine = createVisionEngine(settings({ backend: 'node' }), silentLogger());
    await assert.rejects(engine.load(), /@tensorflow\/tfjs-node cannot be loaded/);
  });

  it('falls back to WASM with auto, and runs the cpu backend when asked', async () => {
    const { data, info } = await sharp(face('scenes/obama_small.jpg'))
      .resize(160)
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image = { width: info.width, height: info.height, data };

    for (const [backend, expected] of [
      ['auto', 'wasm'],
      ['cpu', 'cpu'],
    ] as const) {
      const engine = createVisionEngine(settings({ backend }), silentLogger());
      try {
        assert.equal((await engine.load()).backend, expected);
        const faces = await engine.analyze(image);
        assert.equal(faces.length, 1, backend);
        assert.equal(faces[0]!.descriptor?.length, 128);
      } finally {
        await engine.close();
      }
    }
  });
});
