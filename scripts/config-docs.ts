// Writes config/default.yaml and the README's configuration reference from the schema.
// With --check, exits 1 when either is out of step instead of writing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultYaml, withReference } from '../src/config/docs.js';
import { packageRoot } from '../src/paths.js';

const check = process.argv.includes('--check');
const targets = [
  { file: join(packageRoot, 'config', 'default.yaml'), text: () => defaultYaml() },
  {
    file: join(packageRoot, 'README.md'),
    text: () => withReference(readFileSync(join(packageRoot, 'README.md'), 'utf8')),
  },
];

let stale = 0;
for (const { file, text } of targets) {
  const wanted = text();
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current === wanted) continue;
  if (check) {
    console.error(`${file} is out of step with the config schema; run npm run config-docs`);
    stale++;
  } else {
    writeFileSync(file, wanted);
    console.log(`wrote ${file}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
