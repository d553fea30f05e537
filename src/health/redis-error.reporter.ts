import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { InjectLogger } from '../logging/logging.module';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import { DeliveryQueue } from '../queue/delivery-queue';
import { InjectRedis } from '../redis/redis.module';

/**
 * Listens for connection errors on the shared Redis client and the deliveries queue. Without a
 * listener, ioredis and BullMQ print each one to stderr (not JSON, and BullMQ prints the whole
 * error, with the failed AUTH command and its password). Attached in the constructor, before the
 * first connection attempt can fail. Readiness reports the outage; this only keeps a log of it.
 */
@Injectable()
export class RedisErrorReporter {
  constructor(
    @InjectRedis() redis: Redis,
    deliveries: DeliveryQueue,
    @InjectLogger() logger: Logger,
  ) {
    const errors = new RepeatedErrorLog(
      logger.child({ component: 'redis' }),
      'Redis connection error',
    );
    redis.on('error', (error: unknown) => errors.report('client', error));
    redis.on('ready', () => errors.recovered('client'));
    deliveries.onError((error) => errors.report(`queue:${deliveries.name}`, error));
  }
}
