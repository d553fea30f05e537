import type { Command } from 'commander';
import type { CliContext } from '../cli-context';

/** `--json` and `--verbose` are accepted after the command too, where people type them. */
export function withOutputOptions(command: Command): Command {
  return command
    .option('--json', "print the API's JSON instead of a table")
    .option('-v, --verbose', 'print each HTTP request and answer on stderr (never the key)');
}

/** The API's JSON for --json, the human rendering otherwise. */
export function print(ctx: CliContext, command: Command, body: unknown, human: () => string): void {
  if (ctx.wantsJson(command)) {
    ctx.output.json(body);
  } else {
    ctx.output.out(human());
  }
}
