import { type Command, Option } from 'commander';
import type {
  FilterValue,
  Subscription,
  SubscriptionInput,
  SubscriptionOrdering,
} from '../admin-api.types';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-errors';
import {
  formatCreated,
  formatRotated,
  formatSubscription,
  formatSubscriptionTable,
  formatTestSent,
} from '../format/subscriptions.formatter';
import { commaList, filterEntry, headerEntry, integerIn } from '../option-parsers';
import { print, withOutputOptions } from './output-options';

const MAX_LISTED = 1_000;
// The API's bounds (src/subscriptions/dto/subscription-fields.ts); it checks them again.
const MAX_RATE_LIMIT_PER_SECOND = 10_000;
const MAX_IN_FLIGHT = 1_000;
const PAGE_SIZE = 100;

interface FieldOptions {
  url?: string;
  types?: string[];
  description?: string;
  header?: Record<string, string>;
  filter?: Record<string, FilterValue>;
  ordering?: SubscriptionOrdering;
  rateLimit?: number;
  maxInFlight?: number;
}

interface UpdateOptions extends FieldOptions {
  clearDescription?: boolean;
  clearHeaders?: boolean;
  clearFilter?: boolean;
  clearLimits?: boolean;
}

function fieldOptions(command: Command, urlHelp: string): Command {
  return command
    .option('--url <url>', urlHelp)
    .option('--types <list>', 'event types, comma-separated: call.*,sms.inbound, or *', commaList)
    .option('--description <text>', 'a note for people')
    .option('--header <name=value>', 'an extra request header (repeat for more)', headerEntry)
    .option(
      '--filter <field=values>',
      'deliver only events whose data field matches: direction=inbound, tn=1555...,1666... (repeat for more)',
      filterEntry,
    )
    .addOption(
      new Option(
        '--ordering <mode>',
        'per-key: events of one call, message or order arrive one at a time, in order',
      ).choices(['none', 'per-key']),
    )
    .addOption(
      new Option('--rate-limit <n>', 'requests per second at most, all workers together').argParser(
        integerIn(1, MAX_RATE_LIMIT_PER_SECOND),
      ),
    )
    .addOption(
      new Option('--max-in-flight <n>', 'concurrent requests at most').argParser(
        integerIn(1, MAX_IN_FLIGHT),
      ),
    );
}

function updateInput(options: UpdateOptions): SubscriptionInput {
  if (options.description !== undefined && options.clearDescription) {
    throw new UsageError('--description and --clear-description cannot be used together');
  }
  if (options.header !== undefined && options.clearHeaders) {
    throw new UsageError('--header and --clear-headers cannot be used together');
  }
  if (options.filter !== undefined && options.clearFilter) {
    throw new UsageError('--filter and --clear-filter cannot be used together');
  }
  if (
    (options.rateLimit !== undefined || options.maxInFlight !== undefined) &&
    options.clearLimits
  ) {
    throw new UsageError(
      '--rate-limit or --max-in-flight and --clear-limits cannot be used together',
    );
  }
  const input: SubscriptionInput = {
    url: options.url,
    eventTypes: options.types,
    description: options.clearDescription ? null : options.description,
    headers: options.clearHeaders ? {} : options.header,
    filter: options.clearFilter ? null : options.filter,
    ordering: options.ordering,
    rateLimitPerSecond: options.clearLimits ? null : options.rateLimit,
    maxInFlight: options.clearLimits ? null : options.maxInFlight,
  };
  const changes = Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined),
  ) as SubscriptionInput;
  if (Object.keys(changes).length === 0) {
    throw new UsageError(
      'nothing to update: give at least one of --url, --types, --description, --header, --filter, --ordering, --rate-limit, --max-in-flight or a --clear-* option',
    );
  }
  return changes;
}

export function registerSubscriptionCommands(program: Command, ctx: CliContext): void {
  const subscriptions = program
    .command('subscriptions')
    .alias('subs')
    .description('list, create and change webhook subscriptions');

  withOutputOptions(subscriptions.command('list'))
    .description('list subscriptions, oldest first')
    .addOption(
      new Option('--limit <n>', `how many at most (1-${MAX_LISTED})`)
        .argParser(integerIn(1, MAX_LISTED))
        .default(MAX_LISTED),
    )
    .action(async (options: { limit: number }, command: Command) => {
      const client = ctx.client(command);
      const data: Subscription[] = [];
      let cursor: string | undefined;
      let nextCursor: string | null = null;
      do {
        const page = await client.listSubscriptions(
          Math.min(PAGE_SIZE, options.limit - data.length),
          cursor,
        );
        data.push(...page.body.data);
        nextCursor = page.body.nextCursor;
        cursor = nextCursor ?? undefined;
      } while (cursor && data.length < options.limit);
      if (ctx.wantsJson(command)) {
        ctx.output.json({ data, nextCursor });
      } else {
        ctx.output.out(formatSubscriptionTable(data, ctx.time));
        if (nextCursor) {
          ctx.output.err(`(first ${data.length} shown; raise --limit for more)`);
        }
      }
    });

  withOutputOptions(subscriptions.command('get'))
    .description('show one subscription')
    .argument('<id>', 'subscription id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const reply = await ctx.client(command).getSubscription(id);
      print(ctx, command, reply.body, () => formatSubscription(reply.body, ctx.time));
    });

  withOutputOptions(fieldOptions(subscriptions.command('create'), 'the webhook URL (required)'))
    .description('create a subscription; prints its signing secret once')
    .action(async (options: FieldOptions, command: Command) => {
      if (options.url === undefined) {
        throw new UsageError('create needs --url <webhook URL>');
      }
      const reply = await ctx.client(command).createSubscription({
        url: options.url,
        eventTypes: options.types ?? ['*'],
        description: options.description,
        headers: options.header,
        filter: options.filter,
        ordering: options.ordering,
        rateLimitPerSecond: options.rateLimit,
        maxInFlight: options.maxInFlight,
      });
      print(ctx, command, reply.body, () => formatCreated(reply.body, ctx.time));
    });

  withOutputOptions(fieldOptions(subscriptions.command('update'), 'a new webhook URL'))
    .description(
      'change some fields of a subscription; --header and --filter replace the whole set',
    )
    .argument('<id>', 'subscription id')
    .option('--clear-description', 'remove the description')
    .option('--clear-headers', 'remove every extra header')
    .option('--clear-filter', 'remove the filter')
    .option('--clear-limits', 'remove the rate limit and the in-flight limit')
    .action(async (id: string, options: UpdateOptions, command: Command) => {
      const reply = await ctx.client(command).updateSubscription(id, updateInput(options));
      print(ctx, command, reply.body, () => formatSubscription(reply.body, ctx.time));
    });

  for (const [name, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    withOutputOptions(subscriptions.command(name))
      .description(
        enabled
          ? 'turn a disabled subscription back on'
          : 'stop delivering to a subscription (kept, can be enabled again)',
      )
      .argument('<id>', 'subscription id')
      .action(async (id: string, _options: unknown, command: Command) => {
        const reply = await ctx.client(command).updateSubscription(id, { enabled });
        print(ctx, command, reply.body, () => formatSubscription(reply.body, ctx.time));
      });
  }

  withOutputOptions(subscriptions.command('rotate-secret'))
    .description('replace the signing secret; the previous one keeps signing for the overlap')
    .argument('<id>', 'subscription id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const reply = await ctx.client(command).rotateSecret(id);
      print(ctx, command, reply.body, () => formatRotated(id, reply.body, ctx.time));
    });

  withOutputOptions(subscriptions.command('test'))
    .description('send a webhook.test event to this subscription only')
    .argument('<id>', 'subscription id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const reply = await ctx.client(command).sendTest(id);
      print(ctx, command, reply.body, () => formatTestSent(id, reply.body));
    });

  withOutputOptions(subscriptions.command('delete'))
    .description('delete a subscription (its pending deliveries are skipped)')
    .argument('<id>', 'subscription id')
    .action(async (id: string, _options: unknown, command: Command) => {
      await ctx.client(command).deleteSubscription(id);
      // 204: no JSON to print; the exit code says it went through.
      if (!ctx.wantsJson(command)) {
        ctx.output.out(`Deleted ${id}.`);
      }
    });
}
