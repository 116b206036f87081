import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../daemon.js';
import { loadTemplateKey } from '../privacy/crypto.js';
import type { VisionEngine } from '../vision/engine.js';
import { enrollUser } from '../vision/enroll.js';
import type { Enroller } from './requests.js';

/**
 * Enrollment over MQTT through the same gates as `presente enroll`. The photo is written to a
 * private temp file only for the time the vision code reads it, then removed; it is never kept,
 * logged or published.
 */
export function visionEnroller(runtime: Runtime, engine: VisionEngine): Enroller {
  return async (userCode, jpeg) => {
    const dir = mkdtempSync(join(tmpdir(), 'presente-enroll-'));
    try {
      const file = join(dir, 'photo.jpg');
      writeFileSync(file, jpeg, { mode: 0o600 });
      const { config, db } = runtime;
      const result = await enrollUser(
        db,
        engine,
        config.vision,
        loadTemplateKey(config),
        userCode,
        [file],
      );
      return {
        templates: result.templates.length,
        model_id: result.modelId,
        quality: result.templates[0]?.quality ?? null,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
