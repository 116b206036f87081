/** Process exit codes. Operators and supervisors rely on them; never reuse a number. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** The daemon stopped itself on memory pressure; systemd restarts it (Restart=on-failure). */
  memoryPressure: 75,
  /** EX_CONFIG from sysexits.h: the configuration is invalid. */
  config: 78,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is written for the operator; the CLI prints it without a stack. */
export class PresenteError extends Error {
  readonly exitCode: ExitCodeValue;

  constructor(message: string, exitCode: ExitCodeValue = ExitCode.failure, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PresenteError';
    this.exitCode = exitCode;
  }
}

/** Wrong arguments on the command line. */
export class UsageError extends PresenteError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/** An invalid configuration; `problems` holds one line per problem. */
export class ConfigError extends PresenteError {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'), ExitCode.config);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
