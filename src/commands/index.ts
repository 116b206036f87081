import { ConfigError, ExitCode, PresenteError, UsageError } from '../errors.js';
import { softwareVersion } from '../paths.js';
import { demoCommands } from './demo.js';
import {
  type Command,
  CommandContext,
  commandHelp,
  type Output,
  parseCommandArgs,
} from './framework.js';
import { healthCommands } from './health.js';
import { mqttCommands } from './mqtt.js';
import { reportCommands } from './reports.js';
import { runCommands } from './run.js';
import { storeCommands } from './store.js';
import { visionCommands } from './vision.js';

/** Every command, in the order `presente --help` lists them. */
export const commands: Command[] = [
  ...runCommands,
  ...demoCommands,
  ...storeCommands,
  ...visionCommands,
  ...mqttCommands,
  ...reportCommands,
  ...healthCommands,
];

const stdio: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'presente — face-recognition attendance terminal',
    '',
    'Usage: presente COMMAND [options]   (presente COMMAND --help for its options)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.split('. ')[0]}`),
    '',
    'Every command takes --config FILE; commands that print data take --json.',
    'Exit codes: 0 ok, 1 failure, 2 usage error, 75 stopped on memory pressure,',
    '78 configuration error.',
  ].join('\n');
}

/** Finds the command whose words are the longest prefix of argv. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    const command = commands.find((c) => c.name === name);
    if (command) {
      const rest = [...argv];
      for (const word of words.slice(0, n)) rest.splice(rest.indexOf(word), 1);
      return { command, rest };
    }
  }
  return undefined;
}

/** Runs the CLI; returns the exit code. Only unexpected failures print a stack. */
export async function main(argv: string[], io: Output = stdio, env = process.env): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') {
    io.out(softwareVersion);
    return ExitCode.ok;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview());
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }

  const found = findCommand(argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length > 0) {
      const wantsHelp = argv.includes('--help') || argv.includes('-h');
      io[wantsHelp ? 'out' : 'err'](
        [
          `Usage: presente ${argv[0]} SUBCOMMAND`,
          ...group.map((c) => `  ${c.name}  ${c.summary}`),
        ].join('\n'),
      );
      return wantsHelp ? ExitCode.ok : ExitCode.usage;
    }
    io.err(`presente: unknown command '${argv[0]}' (see presente --help)`);
    return ExitCode.usage;
  }

  const { command, rest } = found;
  let ctx: CommandContext | undefined;
  try {
    const { positionals, options } = parseCommandArgs(command, rest);
    if (options.help) {
      io.out(commandHelp(command));
      return ExitCode.ok;
    }
    ctx = new CommandContext(command, positionals, options, io, env);
    return (await command.run(ctx)) ?? ExitCode.ok;
  } catch (err) {
    return report(err, command, io);
  } finally {
    ctx?.close();
  }
}

function report(err: unknown, command: Command, io: Output): number {
  if (err instanceof ConfigError) {
    io.err('presente: invalid configuration:');
    for (const problem of err.problems) io.err(`  ${problem}`);
    return ExitCode.config;
  }
  if (err instanceof UsageError) {
    io.err(`presente: ${err.message}`);
    io.err(`(see presente ${command.name} --help)`);
    return ExitCode.usage;
  }
  if (err instanceof PresenteError) {
    io.err(`presente: ${err.message}`);
    return err.exitCode;
  }
  io.err(`presente ${command.name}: unexpected failure: ${(err as Error)?.stack ?? String(err)}`);
  return ExitCode.failure;
}
