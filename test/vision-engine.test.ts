import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { RgbImage } from '../src/camera/frame.js';
import { main } from '../src/commands/index.js';
import { loadConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/log.js';
import { getVisionEngine, type VisionEngine } from '../src/vision/engine.js';
import { face, tempDir } from './helpers.js';

// The small tiny-detector setting keeps 500 inferences affordable on a shared machine; the
// load and tensor rules do not depend on the detector.
const env = { PRESENTE_VISION_DETECTOR: 'tiny', PRESENTE_VISION_INPUT_SIZE: '128' };
const vision = configSchema.parse({ vision: { detector: 'tiny', input_size: 128 } }).vision;
const logger = silentLogger();

async function rgb(path: string, width: number): Promise<RgbImage> {
  const { data, info } = await sharp(path)
    .resize(width)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

describe('vision engine', () => {
  let engine: VisionEngine;
  let obama: RgbImage;

  before(async () => {
    engine = getVisionEngine(vision, logger);
    obama = await rgb(face('scenes/obama_small.jpg'), 160);
  });

  after(() => engine.close());

  it('loads the models once for 50 concurrent callers and every reload path', async () => {
    const infos = await Promise.all(
      Array.from({ length: 50 }, () => getVisionEngine(vision, logger).load()),
    );
    assert.equal(engine.loadCount, 1);
    assert.ok(infos.every((info) => info === infos[0]));
    assert.equal(infos[0]!.backend, 'wasm');

    // A configuration reload builds a new config object and asks for the engine again.
    const reloaded = loadConfig({ env: { ...env } }).config;
    const again = getVisionEngine(reloaded.vision, logger);
    assert.equal(again, engine);
    await again.load();

    // An MQTT reconnect (or any module restart) calls load() on the engine it holds.
    await engine.load();

    // A command that enrolls, run in this process through the CLI entry.
    const dataDir = tempDir();
    let errors = '';
    const io = {
      out: () => {},
      err: (text: string) => {
        errors += text;
      },
    };
    // The coarse detector setting of this file scores faces lower than the default one.
    const cliEnv = { ...env, PRESENTE_DATA_DIR: dataDir, PRESENTE_VISION_ENROLL_MIN_SCORE: '0.3' };
    assert.equal(await main(['users', 'add', 'obama', '--name', 'Barack Obama'], io, cliEnv), 0);
    const photo = face('people/barack_obama/1.jpg');
    assert.equal(await main(['enroll', '--user', 'obama', photo, '--json'], io, cliEnv), 0, errors);

    assert.equal(engine.loadCount, 1);
  });

  it('never loads face-api or TensorFlow.js on the main thread', () => {
    const cache = createRequire(import.meta.url).cache;
    const loaded = Object.keys(cache).filter(
      (path) => /face-api|@tensorflow/.test(path) && /\.c?js$/.test(path),
    );
    assert.deepEqual(loaded, []);
  });

  it('reports the backend, SIMD, versions and checked model files', async () => {
    const info = await engine.load();
    assert.equal(info.detector, 'tiny');
    assert.equal(typeof info.simd, 'boolean');
    assert.match(info.modelId, /^face-api-1\.7\.15\/recognition-[0-9a-f]{12}$/);
    assert.equal(info.models.length, 6);
    assert.ok(info.models.every((m) => /^[0-9a-f]{64}$/.test(m.sha256)));
    assert.equal(info.tfjsVersion, '4.22.0');
  });

  it('detects, describes and estimates pose on an RGB buffer', async () => {
    const [found, ...rest] = await engine.analyze(obama);
    assert.equal(rest.length, 0);
    assert.ok(found);
    assert.equal(found.descriptor?.length, 128);
    assert.ok(found.score > 0.5);
    assert.ok(Math.abs(found.pose.yaw) < 20 && Math.abs(found.pose.roll) < 10);

    const undescribed = await engine.analyze(obama, { describe: false });
    assert.equal(undescribed[0]?.descriptor, null);
    const tooSmall = await engine.analyze(obama, { minFacePx: 1000 });
    assert.equal(tooSmall[0]?.descriptor, null);
  });

  it('refuses a buffer whose size does not match its dimensions', async () => {
    await assert.rejects(
      engine.analyze({ width: 100, height: 100, data: Buffer.alloc(10) }),
      /expected 100x100x3/,
    );
  });

  it('leaves the tensor count unchanged over 500 inferences', async () => {
    const empty: RgbImage = { ...obama, data: Buffer.alloc(obama.data.length, 90) };
    await engine.analyze(obama);
    const start = await engine.stats();

    // Every call is checked in the worker too: a frame that leaves a tensor behind fails.
    let described = 0;
    for (let i = 0; i < 500; i++) {
      const kind = i % 10;
      if (kind === 0) {
        described += (await engine.analyze(obama)).filter((f) => f.descriptor).length;
      } else if (kind === 5) {
        await engine.analyze(obama, { describe: false });
      } else {
        await engine.analyze(empty);
      }
    }

    const end = await engine.stats();
    assert.equal(described, 50);
    assert.equal(end.numTensors, start.numTensors);
    assert.equal(end.numBytes, start.numBytes);
  });
});
