import { Command, CommanderError, Option } from 'commander';
import { SERVICE_VERSION } from '../version';
import {
  CliContext,
  type CliIo,
  CliOutput,
  DEFAULT_SERVICE_URL,
  DEFAULT_TIMEOUT_MS,
  ENV_KEY,
  ENV_URL,
} from './cli-context';
import { ExitCode, exitCodeFor } from './cli-errors';
import { registerDeliveryCommands } from './commands/deliveries.command';
import { registerEventCommands } from './commands/events.command';
import { registerQuarantineCommands } from './commands/quarantine.command';
import { registerReplayCommand } from './commands/replay.command';
import { registerStatusCommand } from './commands/status.command';
import { registerSubscriptionCommands } from './commands/subscriptions.command';
import { formatError } from './format/errors.formatter';
import { integerIn } from './option-parsers';

const EPILOG = `
Connection options (--url, --key, --timeout) go before the command; --json and --verbose go
anywhere. Prefer ${ENV_KEY} to --key: a flag is visible to other users in the process list.

Exit codes: 0 done; 1 the API refused or failed the request, the service could not be reached,
or status is not ready; 2 the command line is wrong (nothing was sent).`;

export function createProgram(ctx: CliContext): Command {
  const program = new Command('opentact-bridge')
    .description("opentact-bridge's admin API from the command line")
    .version(SERVICE_VERSION, '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(see --help)')
    .configureOutput({
      writeOut: (text) => ctx.output.writeOut(text),
      writeErr: (text) => ctx.output.writeErr(text),
    })
    .option(
      '--url <url>',
      `the service's base URL (env ${ENV_URL}, default ${DEFAULT_SERVICE_URL})`,
    )
    .option('--key <key>', `the admin API key (env ${ENV_KEY})`)
    .addOption(
      new Option('--timeout <ms>', 'how long to wait for each answer')
        .argParser(integerIn(100, 600_000))
        .default(DEFAULT_TIMEOUT_MS),
    )
    .option('--json', "print the API's JSON instead of a table")
    .option('-v, --verbose', 'print each HTTP request and answer on stderr (never the key)')
    .addHelpText('after', EPILOG);
  ctx.attach(program);
  registerStatusCommand(program, ctx);
  registerSubscriptionCommands(program, ctx);
  registerDeliveryCommands(program, ctx);
  registerReplayCommand(program, ctx);
  registerQuarantineCommands(program, ctx);
  registerEventCommands(program, ctx);
  return program;
}

/** The key as given on the command line, so it is redacted even from commander's own messages. */
function keyFromArgs(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--key') {
      return argv[i + 1];
    }
    if (argv[i].startsWith('--key=')) {
      return argv[i].slice('--key='.length);
    }
  }
  return undefined;
}

/** Runs one command line and returns its exit code; never throws, never exits the process. */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  const output = new CliOutput(io);
  output.hide(keyFromArgs(argv));
  const ctx = new CliContext(io, output);
  try {
    await createProgram(ctx).parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed help, the version or what is wrong with the command line.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    output.err(formatError(error));
    return exitCodeFor(error);
  }
}
