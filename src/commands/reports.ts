import { UsageError } from '../errors.js';
import { runRetention } from '../jobs/retention.js';
import { loadTemplateKey, readKeyFile } from '../privacy/crypto.js';
import { rekeyTemplates } from '../privacy/keys.js';
import { toCsv, toTable } from '../reports/format.js';
import { buildReport } from '../reports/report.js';
import { findUser } from '../store/users.js';
import type { Command, CommandContext } from './framework.js';

const FORMATS = ['csv', 'json', 'table'] as const;
type Format = (typeof FORMATS)[number];

/** The longest range one report covers: a leap year and a day. */
const MAX_DAYS = 367;

function dateOption(ctx: CommandContext, name: string): string {
  const value = ctx.string(name);
  if (!value) throw new UsageError(`presente report: --${name} DATE is required (YYYY-MM-DD)`);
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : null;
  if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    throw new UsageError(`--${name} '${value}': expected a date as YYYY-MM-DD`);
  }
  return value;
}

function formatOption(ctx: CommandContext): Format {
  if (ctx.json) return 'json';
  const value = ctx.string('format') ?? 'table';
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--format '${value}': expected one of ${FORMATS.join(', ')}`);
  }
  return value as Format;
}

const reportCommand: Command = {
  name: 'report',
  summary:
    'Attendance per person and day: first check-in, last check-out, hours worked, late and ' +
    'early-leave minutes, missing punches and the shift.',
  usage: '--from DATE --to DATE [--user CODE] [--format csv|json|table]',
  json: true,
  options: {
    from: { type: 'string', description: 'first local day (YYYY-MM-DD)' },
    to: { type: 'string', description: 'last local day, included (YYYY-MM-DD)' },
    user: { type: 'string', description: 'only this user' },
    format: { type: 'string', description: 'csv, json or table (default table)' },
  },
  run(ctx) {
    const from = dateOption(ctx, 'from');
    const to = dateOption(ctx, 'to');
    const format = formatOption(ctx);
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
    if (days > MAX_DAYS) {
      throw new UsageError(`a report covers at most ${MAX_DAYS} days (asked for ${days})`);
    }

    const user = ctx.string('user');
    if (user && !findUser(ctx.store, user)) throw new UsageError(`user '${user}' does not exist`);

    const rows = buildReport(ctx.store, {
      from,
      to,
      timeZone: ctx.config.terminal.timezone,
      asOf: new Date(),
      ...(user ? { user } : {}),
    });

    switch (format) {
      case 'json':
        ctx.io.out(JSON.stringify(rows, null, 2));
        break;
      case 'csv':
        ctx.io.out(toCsv(rows).trimEnd());
        break;
      case 'table':
        ctx.io.out(toTable(rows));
        break;
    }
    return 0;
  },
};

const templatesRekey: Command = {
  name: 'templates rekey',
  summary:
    'Re-encrypt every face template with a new key file, in one transaction. Then point ' +
    'privacy.template_key_file at the new file and destroy the old one.',
  usage: '--new-key FILE | --decrypt',
  json: true,
  options: {
    'new-key': { type: 'string', description: 'key file to encrypt with from now on' },
    'old-key': {
      type: 'string',
      description: 'key file the templates are sealed with (default privacy.template_key_file)',
    },
    decrypt: { type: 'boolean', description: 'store the templates unencrypted instead' },
  },
  run(ctx) {
    const newKeyFile = ctx.string('new-key');
    const decrypt = ctx.flag('decrypt');
    if (!newKeyFile && !decrypt) {
      throw new UsageError('presente templates rekey: give --new-key FILE (or --decrypt)');
    }
    if (newKeyFile && decrypt) {
      throw new UsageError('presente templates rekey: --new-key and --decrypt exclude each other');
    }

    // Both keys are read before the database is touched: a bad file changes nothing.
    const oldKeyFile = ctx.string('old-key');
    const currentKey = oldKeyFile ? readKeyFile(oldKeyFile) : loadTemplateKey(ctx.config);
    const newKey = newKeyFile ? readKeyFile(newKeyFile) : null;
    const result = rekeyTemplates(ctx.store, currentKey, newKey);

    ctx.print(result, () =>
      newKey
        ? `re-encrypted ${result.templates} face templates with key ${newKey.id}; ` +
          `now set privacy.template_key_file to ${newKeyFile} and destroy the old key file`
        : `decrypted ${result.templates} face templates; now clear privacy.template_key_file`,
    );
    return 0;
  },
};

const retentionRun: Command = {
  name: 'retention run',
  summary:
    'Delete now what is past its retention period (attendance, sightings, delivered outbox ' +
    'rows), as the scheduled job does.',
  json: true,
  async run(ctx) {
    const { attendance_days, sightings_days, batch } = ctx.config.retention;
    const result = await runRetention(
      ctx.store,
      { attendanceDays: attendance_days, sightingsDays: sightings_days, batch },
      new Date(),
    );
    ctx.print(result, () =>
      [
        `attendance older than ${attendance_days} days: ${result.attendance} rows deleted`,
        `sightings older than ${sightings_days} days: ${result.sightings} rows deleted`,
        `delivered outbox rows: ${result.outbox} deleted`,
        `removed people with no punches left: ${result.users} deleted`,
      ].join('\n'),
    );
    return 0;
  },
};

export const reportCommands: Command[] = [reportCommand, templatesRekey, retentionRun];
