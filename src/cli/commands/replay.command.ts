import { type Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { formatReplay } from '../format/events.formatter';
import { pointInTime } from '../option-parsers';
import { print, withOutputOptions } from './output-options';

interface ReplayOptions {
  subscription: string;
  since: string;
  until?: string;
  scope: 'failed' | 'all';
}

export function registerReplayCommand(program: Command, ctx: CliContext): void {
  withOutputOptions(program.command('replay'))
    .description(
      'send a time window again to one subscription: its failed deliveries, or every retained event',
    )
    .requiredOption('--subscription <id>', 'the subscription to replay to')
    .requiredOption(
      '--since <time>',
      'start of the window (ISO-8601 in your zone, or 30m, 2h, 7d ago)',
      pointInTime(ctx.time, () => ctx.now()),
    )
    .option(
      '--until <time>',
      'end of the window (default now)',
      pointInTime(ctx.time, () => ctx.now()),
    )
    .addOption(
      new Option(
        '--scope <scope>',
        'failed: failing and dead deliveries; all: every retained event',
      )
        .choices(['failed', 'all'])
        .default('failed'),
    )
    .action(async (options: ReplayOptions, command: Command) => {
      if (options.until !== undefined && Date.parse(options.until) < Date.parse(options.since)) {
        throw new UsageError('--until must not be before --since');
      }
      const window = { since: options.since, until: options.until, scope: options.scope };
      const reply = await ctx.client(command).replay(options.subscription, window);
      print(ctx, command, reply.body, () =>
        formatReplay(options.subscription, reply.body, window, ctx.time),
      );
    });
}
