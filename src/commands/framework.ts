import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ExitCode, UsageError } from '../errors.js';
import { createLogger, type Logger, silentLogger } from '../log.js';
import { type Db, openDatabase } from '../store/db.js';
import { migrate } from '../store/migrate.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description?: string };

export interface Command {
  /** Space-separated words after `presente`, e.g. `users add`. */
  name: string;
  summary: string;
  /** Argument synopsis after the name, e.g. `CODE --name NAME`. */
  usage?: string;
  /** Command options besides --config, --json and --help. */
  options?: Record<string, OptionSpec>;
  /** The command prints data and takes --json. */
  json?: boolean;
  /** Lowest and highest number of positional arguments. */
  positionals?: [number, number];
  run(ctx: CommandContext): Promise<number | undefined> | number | undefined;
}

export type OptionValue = string | boolean | string[] | boolean[] | undefined;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** What a command receives: its arguments and lazily opened config, logger and database. */
export class CommandContext {
  readonly json: boolean;
  private loaded: LoadedConfig | undefined;
  private db: Db | undefined;
  private migrated = false;
  private log: Logger | undefined;

  constructor(
    readonly command: Command,
    readonly positionals: string[],
    readonly options: Record<string, OptionValue>,
    readonly io: Output,
    readonly env: NodeJS.ProcessEnv,
    /** Config values applied above file and environment, set by the command itself. */
    private overrides: Record<string, Record<string, unknown>> = {},
  ) {
    this.json = options.json === true;
  }

  string(name: string): string | undefined {
    const value = this.options[name];
    return typeof value === 'string' ? value : undefined;
  }

  flag(name: string): boolean {
    return this.options[name] === true;
  }

  list(name: string): string[] {
    const value = this.options[name];
    return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  }

  /** Adds config overrides; the configuration is validated again on next access. */
  override(section: string, values: Record<string, unknown>): void {
    if (this.db) throw new Error('config overrides must come before the database is opened');
    this.overrides[section] = { ...this.overrides[section], ...values };
    this.loaded = undefined;
  }

  get configFile(): string | undefined {
    return this.string('config');
  }

  get config(): Config {
    this.loaded ??= loadConfig({ file: this.configFile, env: this.env, overrides: this.overrides });
    return this.loaded.config;
  }

  /** Logs to stderr for one-shot commands so stdout stays the command's own output. */
  get logger(): Logger {
    if (!this.log) {
      this.log = this.json
        ? silentLogger()
        : createLogger(
            {
              level: this.config.log.level === 'info' ? 'warn' : this.config.log.level,
              format: 'json',
            },
            process.stderr,
          );
    }
    return this.log;
  }

  /** The database, migrated to the current schema. */
  get store(): Db {
    const db = this.unmigratedStore;
    if (!this.migrated) {
      migrate(db);
      this.migrated = true;
    }
    return db;
  }

  /** The database as it is on disk, for `migrate` itself. */
  get unmigratedStore(): Db {
    this.db ??= openDatabase(this.config.data.dir, {
      busyTimeoutMs: this.config.database.busy_timeout_ms,
    });
    return this.db;
  }

  /** Prints JSON in --json mode, else the human rendering. */
  print(data: unknown, human: () => string): void {
    this.io.out(this.json ? JSON.stringify(data, null, 2) : human());
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}

const COMMON: Record<string, OptionSpec> = {
  config: { type: 'string', description: 'configuration file (YAML); or PRESENTE_CONFIG' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print JSON' },
};

export function commandOptions(command: Command): Record<string, OptionSpec> {
  return { ...COMMON, ...(command.json ? JSON_OPTION : {}), ...command.options };
}

export function commandHelp(command: Command): string {
  const lines = [`Usage: presente ${command.name}${command.usage ? ` ${command.usage}` : ''}`, ''];
  lines.push(command.summary, '', 'Options:');
  for (const [name, spec] of Object.entries(commandOptions(command))) {
    const value = spec.type === 'string' ? ` ${name.toUpperCase()}` : '';
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${value}`;
    lines.push(`  ${flag.padEnd(28)} ${spec.description ?? ''}`);
  }
  return lines.join('\n');
}

/** Parses argv for one command; a usage error for unknown options or wrong arity. */
export function parseCommandArgs(
  command: Command,
  argv: string[],
): { positionals: string[]; options: Record<string, OptionValue> } {
  const specs = Object.fromEntries(
    Object.entries(commandOptions(command)).map(([name, { description: _, ...spec }]) => [
      name,
      spec,
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: specs, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}`);
  }
  const [min, max] = command.positionals ?? [0, 0];
  const options = parsed.values as Record<string, OptionValue>;
  if (!options.help) {
    if (parsed.positionals.length < min) {
      throw new UsageError(`presente ${command.name}: missing arguments (${command.usage ?? ''})`);
    }
    if (parsed.positionals.length > max) {
      throw new UsageError(
        `presente ${command.name}: unexpected argument '${parsed.positionals[max]}'`,
      );
    }
  }
  return { positionals: parsed.positionals, options };
}

export { ExitCode };
