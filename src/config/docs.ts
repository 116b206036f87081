import { stringify } from 'yaml';
import { configKeys } from './load.js';

/** config/default.yaml: every key with its default and description, grouped by section. */
export function defaultYaml(): string {
  const lines = [
    '# presente configuration: every key with its default value.',
    '# Copy the keys you change into your own file and pass it with --config FILE or',
    '# PRESENTE_CONFIG. Each key can also be set in the environment as',
    '# PRESENTE_<SECTION>_<KEY>, e.g. PRESENTE_MQTT_URL, PRESENTE_DATA_DIR.',
    '# Generated from src/config/schema.ts by `npm run config-docs`; do not edit by hand.',
  ];
  let section = '';
  for (const key of configKeys()) {
    if (key.section !== section) {
      section = key.section;
      lines.push('', `${section}:`);
    }
    const choices = key.choices ? ` One of: ${key.choices.join(', ')}.` : '';
    lines.push(`  # ${key.description}${choices}`);
    lines.push(`  ${stringify({ [key.key]: key.defaultValue }).trimEnd()}`);
  }
  return `${lines.join('\n')}\n`;
}

function cell(value: unknown): string {
  const text = typeof value === 'string' ? (value === '' ? "''" : value) : JSON.stringify(value);
  return `\`${text}\``.replaceAll('|', '\\|');
}

/** The configuration reference table in the README. */
export function referenceTable(): string {
  const rows = ['| key | environment | default | meaning |', '|---|---|---|---|'];
  for (const key of configKeys()) {
    const choices = key.choices ? ` (${key.choices.join(', ')})` : '';
    rows.push(
      `| \`${key.section}.${key.key}\` | \`${key.env}\` | ${cell(key.defaultValue)} | ` +
        `${key.description}${choices} |`,
    );
  }
  return rows.join('\n');
}

export const README_BEGIN = '<!-- config-reference:begin -->';
export const README_END = '<!-- config-reference:end -->';

/** Replaces the reference between the markers in the README text. */
export function withReference(readme: string): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error('README has no config reference markers');
  const head = readme.slice(0, begin + README_BEGIN.length);
  return `${head}\n${referenceTable()}\n${readme.slice(end)}`;
}
