import { type Command, Option } from 'commander';
import { DELIVERY_STATUSES } from '../admin-api.types';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import { collectDeliveries, type DeliveryStatusFilter, MAX_SCANNED } from '../deliveries.collector';
import { formatDelivery, formatDeliveryTable, formatRetried } from '../format/deliveries.formatter';
import { integerIn, pointInTime } from '../option-parsers';
import { print, withOutputOptions } from './output-options';

const MAX_LISTED = 1_000;

interface ListOptions {
  status?: DeliveryStatusFilter;
  subscription?: string;
  type?: string;
  since?: string;
  until?: string;
  limit: number;
}

export function registerDeliveryCommands(program: Command, ctx: CliContext): void {
  const deliveries = program
    .command('deliveries')
    .description('inspect and retry webhook deliveries');

  withOutputOptions(deliveries.command('list'))
    .description('list deliveries, newest first')
    .addOption(
      new Option('--status <status>', 'only this status; failed = failing or dead').choices([
        'failed',
        ...DELIVERY_STATUSES,
      ]),
    )
    .option('--subscription <id>', 'only deliveries to this subscription')
    .option('--type <event type>', 'only this event type, e.g. call.hangup')
    .option(
      '--since <time>',
      'created at or after (ISO-8601 in your zone, or 30m, 2h, 7d ago)',
      pointInTime(ctx.time, () => ctx.now()),
    )
    .option(
      '--until <time>',
      'created at or before (same forms as --since)',
      pointInTime(ctx.time, () => ctx.now()),
    )
    .addOption(
      new Option('--limit <n>', `how many at most (1-${MAX_LISTED})`)
        .argParser(integerIn(1, MAX_LISTED))
        .default(50),
    )
    .action(async (options: ListOptions, command: Command) => {
      const sinceMs = options.since === undefined ? undefined : Date.parse(options.since);
      const untilMs = options.until === undefined ? undefined : Date.parse(options.until);
      if (sinceMs !== undefined && untilMs !== undefined && untilMs < sinceMs) {
        throw new UsageError('--until must not be before --since');
      }
      const client = ctx.client(command);
      const result = await collectDeliveries(
        async (query) => (await client.listDeliveries(query)).body,
        {
          status: options.status,
          subscriptionId: options.subscription,
          eventType: options.type,
          sinceMs,
          untilMs,
          limit: options.limit,
        },
      );
      if (ctx.wantsJson(command)) {
        ctx.output.json({ data: result.data });
      } else {
        ctx.output.out(formatDeliveryTable(result.data, ctx.time));
      }
      if (result.incomplete) {
        ctx.output.err(
          `note: stopped after reading ${MAX_SCANNED} deliveries per status without reaching --since; ` +
            'narrow the list with --subscription, --status or a later --until',
        );
      }
    });

  withOutputOptions(deliveries.command('show'))
    .description(
      'one delivery with every attempt: time, status code, duration, error, response body',
    )
    .argument('<id>', 'delivery id')
    .option('--full', 'print each response body whole, below the table')
    .action(async (id: string, options: { full?: boolean }, command: Command) => {
      const reply = await ctx.client(command).getDelivery(id);
      print(ctx, command, reply.body, () => formatDelivery(reply.body, ctx.time, options.full));
    });

  withOutputOptions(deliveries.command('retry'))
    .description('send this delivery again now, with a fresh retry schedule')
    .argument('<id>', 'delivery id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const reply = await ctx.client(command).retryDelivery(id);
      print(ctx, command, reply.body, () => formatRetried(reply.body));
    });
}
