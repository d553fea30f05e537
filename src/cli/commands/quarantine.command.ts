import { type Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import { formatQuarantine } from '../format/quarantine.formatter';
import { integerIn } from '../option-parsers';
import { print, withOutputOptions } from './output-options';

/** The API's own bound. */
const MAX_LISTED = 500;

export function registerQuarantineCommands(program: Command, ctx: CliContext): void {
  const quarantine = program
    .command('quarantine')
    .description('frames the service could not read, kept with their raw bytes');

  withOutputOptions(quarantine.command('list'))
    .description('quarantined frames, newest first')
    .addOption(
      new Option('--limit <n>', `how many at most (1-${MAX_LISTED})`)
        .argParser(integerIn(1, MAX_LISTED))
        .default(50),
    )
    .action(async (options: { limit: number }, command: Command) => {
      const reply = await ctx.client(command).listQuarantine(options.limit);
      print(ctx, command, reply.body, () => formatQuarantine(reply.body, ctx.time));
    });
}
