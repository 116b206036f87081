import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type Config, configSchema } from './schema.js';

export type LeafKind = 'number' | 'boolean' | 'string';

export interface ConfigKey {
  section: string;
  key: string;
  /** `PRESENTE_<SECTION>_<KEY>` */
  env: string;
  kind: LeafKind;
  defaultValue: unknown;
  description: string;
  choices?: readonly (string | number)[];
}

interface ZodInternals {
  _zod: { def: { type: string; innerType?: z.ZodType; options?: z.ZodType[]; values?: unknown[] } };
  description?: string;
  options?: readonly (string | number)[];
}

function leafKind(schema: z.ZodType): { kind: LeafKind; choices?: (string | number)[] } {
  const def = (schema as unknown as ZodInternals)._zod.def;
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
      return leafKind(def.innerType as z.ZodType);
    case 'number':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'enum':
      return { kind: 'string', choices: (schema as unknown as ZodInternals).options as string[] };
    case 'union': {
      const values = (def.options ?? []).flatMap((o) => {
        const literal = (o as unknown as ZodInternals)._zod.def.values ?? [];
        return literal as (string | number)[];
      });
      const kind = values.every((v) => typeof v === 'number') ? 'number' : 'string';
      return { kind, choices: values };
    }
    default:
      return { kind: 'string' };
  }
}

/** Every key of the schema, in schema order: the source of env names and the docs. */
export function configKeys(): ConfigKey[] {
  const defaults = configSchema.parse({}) as Record<string, Record<string, unknown>>;
  const keys: ConfigKey[] = [];
  for (const [section, sectionSchema] of Object.entries(configSchema.shape)) {
    const inner = (sectionSchema as unknown as ZodInternals)._zod.def.innerType as unknown as {
      shape: Record<string, z.ZodType>;
    };
    for (const [key, leaf] of Object.entries(inner.shape)) {
      const { kind, choices } = leafKind(leaf);
      keys.push({
        section,
        key,
        env: `PRESENTE_${section}_${key}`.toUpperCase(),
        kind,
        defaultValue: defaults[section]?.[key],
        description: (leaf as unknown as ZodInternals).description ?? '',
        ...(choices ? { choices } : {}),
      });
    }
  }
  return keys;
}

export interface LoadOptions {
  /** `--config FILE`; falls back to PRESENTE_CONFIG. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values applied last, above the environment (used by commands such as `replay`). */
  overrides?: Record<string, Record<string, unknown>>;
}

export interface LoadedConfig {
  config: Config;
  /** The file read, if any. */
  file: string | undefined;
}

/**
 * Builds the configuration from defaults, the YAML file and the environment, and validates it
 * once. On failure throws a ConfigError listing every problem, one line each.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.PRESENTE_CONFIG || undefined);
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};

  if (file) {
    const fromFile = readConfigFile(file, problems);
    if (fromFile) raw = fromFile;
  }

  applyEnv(raw, env, problems);
  if (options.overrides) {
    for (const [section, values] of Object.entries(options.overrides)) {
      raw[section] = { ...asRecord(raw[section]), ...values };
    }
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) problems.push(...result.error.issues.map((i) => describeIssue(i, raw)));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);

  return { config: Object.freeze(result.data) as Config, file };
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`${file}: cannot read the config file (${code ?? 'error'})`);
    return undefined;
  }

  try {
    const parsed: unknown = parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${file}: expected a mapping of sections at the top level`);
      return undefined;
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `:${err.linePos[0].line}` : '';
    const first = (err as Error).message.split('\n')[0];
    problems.push(`${file}${where}: not valid YAML (${first})`);
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]) {
  const known = new Map(configKeys().map((k) => [k.env, k]));
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith('PRESENTE_')) continue;
    if (name === 'PRESENTE_CONFIG') continue;
    const key = known.get(name);
    if (!key) {
      const hint = closest(name, [...known.keys()]);
      problems.push(
        `${name}: unknown environment variable${hint ? ` (did you mean ${hint}?)` : ''}`,
      );
      continue;
    }
    const section = asRecord(raw[key.section]);
    section[key.key] = coerce(value, key.kind);
    raw[key.section] = section;
  }
}

/** Environment values are strings; turn them into the schema's type where they read as one. */
function coerce(value: string, kind: LeafKind): unknown {
  if (kind === 'number') {
    const n = Number(value);
    return value.trim() !== '' && Number.isFinite(n) ? n : value;
  }
  if (kind === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(value)) return true;
    if (/^(false|0|no|off)$/i.test(value)) return false;
  }
  return value;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const part of path) node = asRecord(node)[String(part)];
  return node;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

const article: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  int: 'a whole number',
};

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path.map(String).join('.');
  const at = path || '(top level)';
  const got = valueAt(raw, issue.path);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = issue.path.length
        ? Object.keys(asRecord(asRecord(configSchema.parse({}))[String(issue.path[0])]))
        : Object.keys(configSchema.shape);
      return issue.keys
        .map((key) => {
          const full = path ? `${path}.${key}` : key;
          const hint = closest(key, parent);
          const suggestion = hint ? ` (did you mean ${path ? `${path}.` : ''}${hint}?)` : '';
          return `${full}: unknown key${suggestion}`;
        })
        .join('\n');
    }
    case 'invalid_type':
      return `${at}: expected ${article[issue.expected] ?? issue.expected}, got ${show(got)}`;
    case 'invalid_value':
      return `${at}: expected one of ${issue.values.map((v) => show(v)).join(', ')}, got ${show(got)}`;
    case 'too_small':
      return `${at}: expected at least ${String(issue.minimum)}, got ${show(got)}`;
    case 'too_big':
      return `${at}: expected at most ${String(issue.maximum)}, got ${show(got)}`;
    case 'invalid_union':
      return `${at}: expected one of the allowed values, got ${show(got)}`;
    default:
      return `${at}: ${issue.message}, got ${show(got)}`;
  }
}

/** The candidate nearest to `word` by edit distance, if it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
