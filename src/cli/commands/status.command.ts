import type { Command } from 'commander';
import type { AdminApiClient } from '../admin-api.client';
import type { CliContext } from '../cli-context';
import { ExitCode } from '../cli-errors';
import { formatStatus } from '../format/status.formatter';
import { HealthMetricsStatusSource } from '../status/health-metrics.status-source';
import type { StatusSource } from '../status/status-report';
import { print, withOutputOptions } from './output-options';

/** Where the status comes from; GET /v1/status replaces this source when the service has it. */
export function statusSource(client: AdminApiClient): StatusSource {
  return new HealthMetricsStatusSource(client);
}

export function registerStatusCommand(program: Command, ctx: CliContext): void {
  withOutputOptions(program.command('status'))
    .description(
      'readiness, Opentact connection, queue depths and delivery counters; exit 1 when not ready',
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
