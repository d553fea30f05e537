import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import { ManagedWorker } from '../queue/managed-worker';
import { type DeliveryJobData, type EventJobData, QueueName } from '../queue/queue.constants';
import { bullConnection } from '../queue/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import { RetryableDeliveryError } from './delivery-errors';
import { FanOut } from './fan-out.service';
import { nextDelayMs } from './retry-schedule';
import { WebhookDelivery } from './webhook-delivery.service';

/**
 * Owns the two consumers of the worker role: the fan-out (events queue) and the webhook sender
 * (deliveries queue). Both start paused and consume once Redis answers; on shutdown they stop
 * fetching after the WSS has stopped and get SHUTDOWN_TIMEOUT_MS to finish in-flight jobs.
 */
@Injectable()
export class DeliveryWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly fanOutWorker: ManagedWorker<EventJobData>;
  readonly deliveryWorker: ManagedWorker<DeliveryJobData>;

  constructor(
    private readonly config: AppConfig,
    fanOut: FanOut,
    delivery: WebhookDelivery,
    @InjectRedis() redis: Redis,
    @InjectLogger() logger: Logger,
  ) {
    const { delivery: cfg, redis: redisCfg } = config;
    const log = logger.child({ component: 'workers' });
    this.fanOutWorker = new ManagedWorker<EventJobData>({
      queueName: QueueName.Events,
      processor: async (job: Job<EventJobData>) => {
        await fanOut.fanOut(job.data, Date.parse(job.data.receivedAt));
      },
      workerOptions: {
        connection: bullConnection(redisCfg, { purpose: 'worker', connectionName: 'otb-fanout' }),
        prefix: redisCfg.prefix,
        concurrency: cfg.fanoutConcurrency,
        // The fan-out makes first attempts itself, so its lock outlasts an HTTP attempt too.
        lockDuration: Math.max(30_000, cfg.timeoutMs + 15_000),
      },
      logger: log,
      redis,
    });
    this.deliveryWorker = new ManagedWorker<DeliveryJobData>({
      queueName: QueueName.Deliveries,
      processor: (job: Job<DeliveryJobData>) => delivery.deliver(job),
      workerOptions: {
        connection: bullConnection(redisCfg, { purpose: 'worker', connectionName: 'otb-delivery' }),
        prefix: redisCfg.prefix,
        concurrency: cfg.workerConcurrency,
        // The lock is renewed every half period while an attempt runs; making it outlast the HTTP
        // timeout as well means even a missed renewal cannot hand a live attempt to another worker.
        lockDuration: Math.max(30_000, cfg.timeoutMs + 15_000),
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => {
            if (err instanceof RetryableDeliveryError && err.delayMs !== undefined) {
              return err.delayMs;
            }
            return nextDelayMs(attemptsMade, cfg.retryScheduleMs, cfg.retryJitter) ?? -1;
          },
        },
      },
      logger: log,
      redis,
    });
  }

  get running(): boolean {
    return this.fanOutWorker.isRunning && this.deliveryWorker.isRunning;
  }

  onApplicationBootstrap(): void {
    // Not awaited: start-up must not block on Redis; readiness reports the workers' state.
    void this.fanOutWorker.start();
    void this.deliveryWorker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([
      this.fanOutWorker.close(this.config.shutdownTimeoutMs),
      this.deliveryWorker.close(this.config.shutdownTimeoutMs),
    ]);
  }
}
