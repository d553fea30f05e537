import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { bullConnection } from '../redis/redis-connection.factory';
import { DeliveryQueue } from './delivery-queue';
import { QueueName } from './queue.constants';

/**
 * The deliveries queue. Its connection retries forever (maxRetriesPerRequest: null): while Redis
 * is away an `add` waits instead of failing.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        connection: bullConnection(config.redis, {
          purpose: 'worker',
          connectionName: 'otb-queue',
        }),
        prefix: config.redis.prefix,
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Deliveries }),
  ],
  providers: [DeliveryQueue],
  exports: [DeliveryQueue],
})
export class QueueModule {}
