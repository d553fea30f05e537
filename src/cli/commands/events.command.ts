import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { formatEvent } from '../format/events.formatter';
import { print, withOutputOptions } from './output-options';

export function registerEventCommands(program: Command, ctx: CliContext): void {
  const events = program.command('events').description('normalised events, while retained');

  withOutputOptions(events.command('get'))
    .description('one event: its data and the frame as received')
    .argument('<id>', 'event id (a delivery shows its event id)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const reply = await ctx.client(command).getEvent(id);
      print(ctx, command, reply.body, () => formatEvent(reply.body, ctx.time));
    });
}
