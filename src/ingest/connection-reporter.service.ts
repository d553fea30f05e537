import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { InjectLogger } from '../logging/logging.module';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import { OperationalStatsRepository } from '../metrics/operational-stats.repository';
import { OpentactConnection } from '../platform/opentact-connection.service';

const REPORT_EVERY_MS = 5_000;

/**
 * Tells the other processes (through Redis) how this process's Opentact connection is doing,
 * every few seconds and at once on a change of state, for `GET /v1/status`.
 */
@Injectable()
export class ConnectionReporter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly instance = `${hostname()}-${process.pid}`;
  private timer?: NodeJS.Timeout;
  private readonly errors: RepeatedErrorLog;

  constructor(
    private readonly connection: OpentactConnection,
    private readonly stats: OperationalStatsRepository,
    @InjectLogger() logger: Logger,
  ) {
    this.errors = new RepeatedErrorLog(
      logger.child({ component: 'status' }),
      'status report error',
    );
  }

  onApplicationBootstrap(): void {
    // A state change, or a subscription attempt failing, is reported at once.
    this.connection.addListener({
      onStateChange: () => this.report(),
      onSubscriptionError: () => this.report(),
      onAuthFailure: () => this.report(),
    });
    this.timer = setInterval(() => this.report(), REPORT_EVERY_MS);
    this.timer.unref();
    this.report();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Writes the current state; failures are logged (once per interval) and retried next time. */
  report(): void {
    const status = this.connection.status();
    this.stats
      .reportConnection(
        {
          instance: this.instance,
          state: status.state,
          authenticated: status.authenticated,
          connectedSince: status.connectedSince,
          lastFrameAt: status.lastFrameAt,
          reconnects: status.reconnectCount,
          paused: status.paused,
          authFailures: status.authFailures,
          lastError: status.lastError,
          opentactSubscriptions: {
            state: status.subscriptions.state,
            failures: status.subscriptions.failures,
            lastError: status.subscriptions.lastError,
          },
          reportedAt: new Date().toISOString(),
        },
        Date.now(),
      )
      .then(
        () => this.errors.recovered('report'),
        (err: unknown) => this.errors.report('report', err),
      );
  }
}
