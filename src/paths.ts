import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (holding migrations/, seeds/, models/), whether run from src or dist. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'presente') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the presente package folder');
    dir = parent;
  }
})();

export const softwareVersion: string = JSON.parse(
  readFileSync(join(packageRoot, 'package.json'), 'utf8'),
).version;

export const migrationsDir = join(packageRoot, 'migrations');
export const bundledSeedsDir = join(packageRoot, 'seeds');
export const modelsSumsDir = join(packageRoot, 'models');
