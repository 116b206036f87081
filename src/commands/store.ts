import { resolve } from 'node:path';
import { configKeys } from '../config/load.js';
import { PresenteError, UsageError } from '../errors.js';
import { bundledSeedsDir } from '../paths.js';
import { eraseUser } from '../privacy/erase.js';
import { migrate } from '../store/migrate.js';
import { listRoles } from '../store/roles.js';
import { seed } from '../store/seed.js';
import { listShifts, shiftProblems, upsertShift, WEEKDAYS, type Weekday } from '../store/shifts.js';
import { listTemplates } from '../store/templates.js';
import { addUser, findUser, listUsers } from '../store/users.js';
import type { Command, CommandContext } from './framework.js';
import { table } from './table.js';

export function seedsDir(ctx: CommandContext): string {
  return ctx.config.seeds.dir ? resolve(ctx.config.seeds.dir) : bundledSeedsDir;
}

const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Create or update the database schema in the data directory.',
  json: true,
  run(ctx) {
    const result = migrate(ctx.unmigratedStore);
    ctx.print(result, () =>
      result.applied.length === 0
        ? `schema is up to date (version ${result.current})`
        : `applied ${result.applied.join(', ')} (now at version ${result.current})`,
    );
    return 0;
  },
};

const seedCommand: Command = {
  name: 'seed',
  summary: 'Run migrations, then upsert roles, shifts and users from the seed files.',
  usage: '[DIR]',
  positionals: [0, 1],
  json: true,
  run(ctx) {
    const dir = ctx.positionals[0] ? resolve(ctx.positionals[0]) : seedsDir(ctx);
    const result = seed(ctx.store, dir);
    ctx.print(result, () => {
      const { roles, shifts, users } = result.changed;
      return `seeded from ${dir}: ${roles} roles, ${shifts} shifts, ${users} users changed`;
    });
    return 0;
  },
};

const usersList: Command = {
  name: 'users list',
  summary: 'List users.',
  json: true,
  options: { active: { type: 'boolean', description: 'only active users' } },
  run(ctx) {
    const users = listUsers(ctx.store, { activeOnly: ctx.flag('active') });
    ctx.print(users, () =>
      table(
        ['code', 'name', 'role', 'shift', 'active'],
        users.map((u) => [u.code, u.name, u.role, u.shift, u.active ? 'yes' : 'no']),
      ),
    );
    return 0;
  },
};

const usersShow: Command = {
  name: 'users show',
  summary: 'Show one user and their face templates (never the descriptors).',
  usage: 'CODE',
  positionals: [1, 1],
  json: true,
  run(ctx) {
    const code = ctx.positionals[0]!;
    const user = findUser(ctx.store, code);
    if (!user) throw new PresenteError(`user '${code}' does not exist`);
    const templates = listTemplates(ctx.store, code);
    ctx.print({ ...user, templates }, () =>
      [
        `code:      ${user.code}`,
        `name:      ${user.name}`,
        `role:      ${user.role ?? '-'}`,
        `shift:     ${user.shift ?? '-'}`,
        `active:    ${user.active ? 'yes' : 'no'}`,
        `templates: ${templates.length}`,
        `created:   ${user.createdAt}`,
        `updated:   ${user.updatedAt}`,
      ].join('\n'),
    );
    return 0;
  },
};

const usersAdd: Command = {
  name: 'users add',
  summary: 'Add a user.',
  usage: 'CODE --name NAME [--role ROLE] [--shift SHIFT]',
  positionals: [1, 1],
  json: true,
  options: {
    name: { type: 'string', description: 'full name (required)' },
    role: { type: 'string', description: 'role name' },
    shift: { type: 'string', description: 'shift name' },
  },
  run(ctx) {
    const code = ctx.positionals[0]!;
    const name = ctx.string('name');
    if (!name) throw new UsageError('presente users add: --name NAME is required');
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(code)) {
      throw new UsageError(`user code '${code}': use letters, digits, '.', '_' or '-' (1 to 64)`);
    }
    const user = addUser(ctx.store, {
      code,
      name,
      role: ctx.string('role') ?? null,
      shift: ctx.string('shift') ?? null,
    });
    ctx.print(user, () => `added user ${user.code} (${user.name})`);
    return 0;
  },
};

const usersRemove: Command = {
  name: 'users remove',
  summary:
    'Remove a user and erase their face templates. A user with attendance is deactivated instead.',
  usage: 'CODE',
  positionals: [1, 1],
  json: true,
  run(ctx) {
    const code = ctx.positionals[0]!;
    const outcome = eraseUser(ctx.store, code, ctx.logger);
    ctx.print({ code, outcome }, () =>
      outcome === 'deleted'
        ? `removed user ${code} and erased their face templates`
        : `user ${code} has attendance records: deactivated, face templates erased`,
    );
    return 0;
  },
};

const rolesList: Command = {
  name: 'roles list',
  summary: 'List roles.',
  json: true,
  run(ctx) {
    const roles = listRoles(ctx.store);
    ctx.print(roles, () =>
      table(
        ['name', 'description'],
        roles.map((r) => [r.name, r.description]),
      ),
    );
    return 0;
  },
};

const shiftsList: Command = {
  name: 'shifts list',
  summary: 'List shifts.',
  json: true,
  run(ctx) {
    const shifts = listShifts(ctx.store);
    ctx.print(shifts, () =>
      table(
        ['name', 'start', 'end', 'weekdays', 'late grace', 'early grace', 'opens', 'overnight'],
        shifts.map((s) => [
          s.name,
          s.start,
          s.end,
          s.weekdays.join(','),
          `${s.lateGraceMin} min`,
          `${s.earlyLeaveGraceMin} min`,
          `${s.checkinOpensMin} min`,
          s.overnight ? 'yes' : 'no',
        ]),
      ),
    );
    return 0;
  },
};

function minutesOption(ctx: CommandContext, name: string): number | undefined {
  const value = ctx.string(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new UsageError(`--${name}: expected whole minutes, got '${value}'`);
  return n;
}

const shiftsAdd: Command = {
  name: 'shifts add',
  summary: 'Add or update a shift. An end at or before the start makes an overnight shift.',
  usage: 'NAME --start HH:MM --end HH:MM [--weekdays mon,tue,...]',
  positionals: [1, 1],
  json: true,
  options: {
    start: { type: 'string', description: 'local start time HH:MM (required)' },
    end: { type: 'string', description: 'local end time HH:MM (required)' },
    weekdays: { type: 'string', description: `days it starts on (${WEEKDAYS.join(',')})` },
    'late-grace': { type: 'string', description: 'minutes after start still on time (5)' },
    'early-grace': { type: 'string', description: 'minutes before end not early (5)' },
    'opens-before': { type: 'string', description: 'minutes before start check-in opens (60)' },
  },
  run(ctx) {
    const start = ctx.string('start');
    const end = ctx.string('end');
    if (!start || !end) throw new UsageError('presente shifts add: --start and --end are required');
    const weekdays = ctx
      .string('weekdays')
      ?.split(',')
      .map((d) => d.trim().toLowerCase() as Weekday);
    const input = {
      name: ctx.positionals[0]!,
      start,
      end,
      ...(weekdays ? { weekdays } : {}),
      lateGraceMin: minutesOption(ctx, 'late-grace'),
      earlyLeaveGraceMin: minutesOption(ctx, 'early-grace'),
      checkinOpensMin: minutesOption(ctx, 'opens-before'),
    };
    const problems = shiftProblems(input);
    if (problems.length > 0) throw new UsageError(`shift '${input.name}': ${problems.join('; ')}`);
    upsertShift(ctx.store, input);
    const shift = listShifts(ctx.store).find((s) => s.name === input.name)!;
    ctx.print(
      shift,
      () =>
        `shift ${shift.name}: ${shift.start}-${shift.end}${shift.overnight ? ' (overnight)' : ''}`,
    );
    return 0;
  },
};

const configCheck: Command = {
  name: 'config check',
  summary: 'Validate the configuration and print the values in effect.',
  json: true,
  run(ctx) {
    const config = ctx.config;
    ctx.print(config, () => {
      const lines = [`configuration is valid${ctx.configFile ? ` (${ctx.configFile})` : ''}`];
      for (const key of configKeys()) {
        const value = (config as Record<string, Record<string, unknown>>)[key.section]?.[key.key];
        const shown = key.key.includes('password') && value ? '********' : JSON.stringify(value);
        lines.push(`  ${key.section}.${key.key} = ${shown}`);
      }
      return lines.join('\n');
    });
    return 0;
  },
};

export const storeCommands: Command[] = [
  migrateCommand,
  seedCommand,
  usersAdd,
  usersList,
  usersShow,
  usersRemove,
  rolesList,
  shiftsList,
  shiftsAdd,
  configCheck,
];
