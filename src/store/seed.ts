import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { PresenteError } from '../errors.js';
import type { Db } from './db.js';
import { findRole, upsertRole } from './roles.js';
import { findShift, shiftProblems, upsertShift, WEEKDAYS, type Weekday } from './shifts.js';
import { upsertUser } from './users.js';

export interface SeedResult {
  files: string[];
  changed: { roles: number; shifts: number; users: number };
}

interface Entry {
  /** `file:line` of the entry, for messages. */
  where: string;
  value: Record<string, unknown>;
}

const FILES = ['roles', 'shifts', 'users'] as const;

function readEntries(file: string): Entry[] {
  const text = readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0].line ?? 1;
    throw new PresenteError(`${file}:${line}: not valid YAML (${first.message.split('\n')[0]})`);
  }
  if (doc.contents === null) return [];
  if (!isSeq(doc.contents)) throw new PresenteError(`${file}:1: expected a list of entries`);

  return doc.contents.items.map((item) => {
    const node = item as YamlNode;
    const line = node.range ? lineCounter.linePos(node.range[0]).line : 1;
    const where = `${file}:${line}`;
    if (!isMap(node)) throw new PresenteError(`${where}: expected a mapping`);
    return { where, value: node.toJSON() as Record<string, unknown> };
  });
}

function text(entry: Entry, key: string, required: boolean): string | undefined {
  const value = entry.value[key];
  if (value === undefined || value === null) {
    if (required) throw new PresenteError(`${entry.where}: '${key}' is required`);
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new PresenteError(`${entry.where}: '${key}' must be text, got ${JSON.stringify(value)}`);
  }
  return String(value);
}

function minutes(entry: Entry, key: string): number | undefined {
  const value = entry.value[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') {
    throw new PresenteError(`${entry.where}: '${key}' must be a number of minutes`);
  }
  return value;
}

function checkKeys(entry: Entry, allowed: readonly string[]) {
  for (const key of Object.keys(entry.value)) {
    if (!allowed.includes(key)) throw new PresenteError(`${entry.where}: unknown key '${key}'`);
  }
}

/**
 * Upserts roles, shifts and users from `dir` (roles.yaml, shifts.yaml, users.yaml), keyed by
 * name and code. All of it is one transaction: a bad entry names its file and line and nothing
 * is written. Seeds are data only; running them loads nothing else.
 */
export function seed(db: Db, dir: string): SeedResult {
  const files: string[] = [];
  const entries: Record<(typeof FILES)[number], Entry[]> = { roles: [], shifts: [], users: [] };
  for (const name of FILES) {
    for (const ext of ['yaml', 'yml', 'json']) {
      const file = join(dir, `${name}.${ext}`);
      if (!existsSync(file)) continue;
      entries[name].push(...readEntries(file));
      files.push(file);
    }
  }

  const changed = { roles: 0, shifts: 0, users: 0 };
  db.transaction(() => {
    for (const entry of entries.roles) {
      checkKeys(entry, ['name', 'description']);
      const name = text(entry, 'name', true)!;
      if (upsertRole(db, { name, description: text(entry, 'description', false) ?? '' })) {
        changed.roles++;
      }
    }

    for (const entry of entries.shifts) {
      checkKeys(entry, [
        'name',
        'start',
        'end',
        'weekdays',
        'late_grace_min',
        'early_leave_grace_min',
        'checkin_opens_min',
      ]);
      const weekdays = entry.value.weekdays;
      if (weekdays !== undefined && !Array.isArray(weekdays)) {
        throw new PresenteError(`${entry.where}: 'weekdays' must be a list such as [mon, tue]`);
      }
      const input = {
        name: text(entry, 'name', true)!,
        start: text(entry, 'start', true)!,
        end: text(entry, 'end', true)!,
        ...(weekdays ? { weekdays: weekdays.map((d) => String(d).toLowerCase() as Weekday) } : {}),
        lateGraceMin: minutes(entry, 'late_grace_min'),
        earlyLeaveGraceMin: minutes(entry, 'early_leave_grace_min'),
        checkinOpensMin: minutes(entry, 'checkin_opens_min'),
      };
      const problems = shiftProblems(input);
      if (problems.length > 0) {
        throw new PresenteError(
          `${entry.where}: shift '${input.name}': ${problems.join('; ')}` +
            (problems.some((p) => p.startsWith('weekdays'))
              ? ` (days: ${WEEKDAYS.join(', ')})`
              : ''),
        );
      }
      if (upsertShift(db, input)) changed.shifts++;
    }

    for (const entry of entries.users) {
      checkKeys(entry, ['code', 'name', 'role', 'shift', 'active']);
      const code = text(entry, 'code', true)!;
      const role = text(entry, 'role', false);
      const shift = text(entry, 'shift', false);
      if (role && !findRole(db, role)) {
        throw new PresenteError(
          `${entry.where}: user '${code}' names role '${role}', which does not exist`,
        );
      }
      if (shift && !findShift(db, shift)) {
        throw new PresenteError(
          `${entry.where}: user '${code}' names shift '${shift}', which does not exist`,
        );
      }
      const active = entry.value.active;
      if (active !== undefined && typeof active !== 'boolean') {
        throw new PresenteError(`${entry.where}: 'active' must be true or false`);
      }
      const input = {
        code,
        name: text(entry, 'name', true)!,
        role,
        shift,
        active: active !== false,
      };
      if (upsertUser(db, input)) changed.users++;
    }
  }).immediate();

  return { files, changed };
}
