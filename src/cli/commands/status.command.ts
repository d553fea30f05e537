import type { Command } from 'commander';
import type { AdminApiClient } from '../admin-api.client';
import type { CliContext } from '../cli-context';
import { ExitCode } from '../cli-errors';
import { formatStatus } from '../format/status.formatter';
import { ServiceStatusSource } from '../status/service-status.status-source';
import type { StatusSource } from '../status/status-report';
import { print, withOutputOptions } from './output-options';

/** Where the status comes from: GET /v1/status, or /metrics from a service without it. */
export function statusSource(client: AdminApiClient): StatusSource {
  return new ServiceStatusSource(client);
}

export function registerStatusCommand(program: Command, ctx: CliContext): void {
  withOutputOptions(program.command('status'))
    .description(
      'readiness, every ingest link, queues and the last hour of deliveries; exit 1 when not ready',
    )
    .action(async (_options: unknown, command: Command) => {
      const client = ctx.client(command);
      const report = await statusSource(client).read();
      print(ctx, command, report, () => formatStatus(report, client.displayUrl, ctx.time));
      if (!report.ready) {
        ctx.exitCode = ExitCode.Failure;
      }
    });
}
