import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventProducer } from './event-producer.service';
import { QueueName } from './queue.constants';
import { bullConnection } from './redis-connection.factory';

/**
 * Registers the two queues. Queue connections retry forever (maxRetriesPerRequest: null): while
 * Redis is away an `add` waits instead of failing, the ingest buffer fills, and the WSS is paused
 * until Redis answers again — nothing read off the socket is dropped.
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
    BullModule.registerQueue({ name: QueueName.Events }, { name: QueueName.Deliveries }),
  ],
  providers: [EventProducer],
  exports: [BullModule, EventProducer],
})
export class QueueModule {}
