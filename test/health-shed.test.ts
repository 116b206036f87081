import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RecognitionLoop } from '../src/attendance/loop.js';
import { Camera, createSource } from '../src/camera/camera.js';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/log.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { getVisionEngine } from '../src/vision/engine.js';
import { Matcher } from '../src/vision/matcher.js';
import { facesDir, tempDir } from './helpers.js';

describe('shedding work under memory pressure', () => {
  it('analyses one frame in `stride` while the health module asks for it', async () => {
    const dir = tempDir();
    const { config: base } = loadConfig({ env: {}, overrides: { data: { dir } } });
    const config = {
      ...base,
      vision: { ...base.vision, detector: 'tiny' as const, input_size: 224 },
      camera: {
        ...base.camera,
        source: 'images' as const,
        path: `${facesDir}/scenes`,
        loop: false,
        realtime: false,
        motion_gate: false,
      },
    };
    const db = openDatabase(dir);
    migrate(db);
    after(() => db.close());
    const logger = silentLogger();
    const engine = getVisionEngine(config.vision, logger);
    after(() => engine.close());
    const info = await engine.load();

    const { source, clock } = createSource(config.camera, { replay: true, logger });
    const camera = new Camera({
      source,
      clock,
      logger,
      stallMs: 10_000,
      restartMaxMs: 1000,
      giveUpAfter: 1,
    });
    let stride = 1;
    const loop = new RecognitionLoop({
      db,
      config,
      analyzer: engine,
      matcher: () => new Matcher([]),
      recorder: {
        terminalId: 't',
        timeZone: 'UTC',
        modelVersion: info.modelId,
        clockSynced: () => true,
      },
      logger,
      dropWhenBusy: false,
      frameStride: () => stride,
    });

    // Pressure starts after the fourth frame.
    const frames = camera.frames(new AbortController().signal);
    async function* pressured() {
      for await (const frame of frames) {
        if (loop.stats.frames_read === 4) stride = 2;
        yield frame;
      }
    }
    const stats = await loop.run(pressured(), new AbortController().signal);
    assert.ok(stats.frames_read >= 10, `${stats.frames_read} frames`);
    const afterPressure = stats.frames_read - 4;
    assert.equal(stats.frames_shed, Math.ceil(afterPressure / 2));
    assert.equal(stats.frames_analysed + stats.frames_shed, stats.frames_read);
  });
});
