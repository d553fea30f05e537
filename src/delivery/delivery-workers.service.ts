import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { EventLog } from '../events/event-log';
import { InjectLogger } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { ManagedWorker } from '../queue/managed-worker';
import { type DeliveryJobData, QueueName } from '../queue/queue.constants';
import { bullConnection, createRedis } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.service';
import { RetryableDeliveryError } from './delivery-errors';
import { DeliveryProcessor } from './delivery.processor';
import { EventLogRetention } from './event-log-retention';
import { FanOutConsumer } from './fan-out.consumer';
import { FanOut } from './fan-out.service';
import { nextDelayMs } from './retry-schedule';

/**
 * Owns the two consumers of the worker role: the fan-out (the event log's consumer group) and the
 * deliveries queue. Both start paused and consume once Redis answers; on shutdown they stop
 * fetching after the WSS has stopped and get SHUTDOWN_TIMEOUT_MS to finish what is in flight.
 */
@Injectable()
export class DeliveryWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly fanOut: FanOutConsumer;
  readonly deliveryWorker: ManagedWorker<DeliveryJobData>;

  constructor(
    private readonly config: AppConfig,
    log: EventLog,
    fanOut: FanOut,
    processor: DeliveryProcessor,
    retention: EventLogRetention,
    private readonly registry: SubscriptionRegistry,
    metrics: MetricsService,
    @InjectRedis() redis: Redis,
    @InjectLogger() logger: Logger,
  ) {
    const { delivery: cfg, redis: redisCfg } = config;
    const workerLog = logger.child({ component: 'workers' });
    // The lock outlasts an HTTP attempt, so a live attempt is never handed to another worker
    // even if one renewal is missed.
    const lockMs = cfg.lockMs;
    this.fanOut = new FanOutConsumer(
      log,
      fanOut,
      createRedis(redisCfg, { purpose: 'worker', connectionName: 'otb-fanout' }),
      metrics,
      logger.child({ component: 'fan-out' }),
      { concurrency: cfg.fanoutConcurrency, claimAfterMs: lockMs },
      retention,
    );
    this.deliveryWorker = new ManagedWorker<DeliveryJobData>({
      queueName: QueueName.Deliveries,
      processor: async (job: Job<DeliveryJobData>, token?: string) => {
        const postponed = await processor.process(job);
        if (postponed !== undefined && token !== undefined) {
          // Not an attempt: back to the delayed set, attempts untouched.
          await job.moveToDelayed(Date.now() + postponed.postponeMs, token);
          throw new DelayedError();
        }
      },
      workerOptions: {
        connection: bullConnection(redisCfg, { purpose: 'worker', connectionName: 'otb-delivery' }),
        prefix: redisCfg.prefix,
        concurrency: cfg.workerConcurrency,
        lockDuration: lockMs,
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => {
            if (err instanceof RetryableDeliveryError && err.delayMs !== undefined) {
              return err.delayMs;
            }
            return nextDelayMs(attemptsMade, cfg.retryScheduleMs, cfg.retryJitter) ?? -1;
          },
        },
      },
      logger: workerLog,
      redis,
    });
  }

  get running(): boolean {
    return this.fanOut.isRunning && this.deliveryWorker.isRunning;
  }

  onApplicationBootstrap(): void {
    // Not awaited: start-up must not block on Redis; readiness reports the workers' state. The
    // fan-out waits for the subscriptions snapshot, or it would match events against nothing.
    void this.fanOut.start(() => this.registry.getEnabled());
    void this.deliveryWorker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([
      this.fanOut.stop(this.config.shutdownTimeoutMs),
      this.deliveryWorker.close(this.config.shutdownTimeoutMs),
    ]);
  }
}
