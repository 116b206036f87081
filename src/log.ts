import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export interface LogOptions {
  level: string;
  /** `auto` prints readable lines when stdout is a terminal and JSON otherwise (journald). */
  format: 'auto' | 'json' | 'pretty';
}

/**
 * The root logger. Modules take a child with `logger.child({ module: 'camera' })`.
 * Redaction is a second line of defence: no code path logs face data, but a descriptor,
 * an image or a password that slips into a log object is replaced all the same.
 */
export function createLogger(options: LogOptions, destination?: NodeJS.WritableStream): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY);
  const base = {
    level: options.level,
    base: undefined,
    redact: {
      paths: [
        'descriptor',
        '*.descriptor',
        'descriptors',
        '*.descriptors',
        'image',
        '*.image',
        'jpeg',
        '*.jpeg',
        'password',
        '*.password',
      ],
      censor: '[redacted]',
    },
  };
  if (destination) return pino(base, destination);
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(base);
}

/** A logger that writes nothing, for commands in JSON mode and for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
