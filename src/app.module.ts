import { type DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { type AppConfig } from './config/app-config';
import { runsApi, runsIngest, runsWorker } from './config/app-role';
import { ConfigModule } from './config/config.module';
import { ConsoleModule } from './console/console.module';
import { DeliveryApiModule } from './delivery/delivery-api.module';
import { DeliveryWorkerModule } from './delivery/delivery-worker.module';
import { EventsApiModule, EventsModule } from './events/events.module';
import { IngestModule } from './ingest/ingest.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsApiModule, MetricsModule } from './metrics/metrics.module';
import { HealthModule, LifecycleModule } from './health/health.module';
import { QueueModule } from './queue/queue.module';
import { RecoveryModule } from './recovery/recovery.module';
import { RedisModule } from './redis/redis.module';
import { StatusModule } from './status/status.module';
import { StreamModule } from './stream/stream.module';
import { SubscriptionsApiModule } from './subscriptions/subscriptions.module';

/**
 * Composes the service for one process. APP_ROLE decides what runs: `ingest` holds the Opentact
 * WSS, `worker` fans out and delivers, `api` serves the admin API, the live stream and the
 * console, `all` does everything.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger?: Logger): DynamicModule {
    const imports: DynamicModule['imports'] & unknown[] = [
      ConfigModule.forRoot(config),
      LoggingModule.forRoot(logger),
      MetricsModule,
      RedisModule,
      QueueModule,
      EventsModule,
      LifecycleModule,
      HealthModule.forRoot(config),
      MetricsApiModule,
    ];
    if (runsIngest(config.role)) {
      imports.push(IngestModule, RecoveryModule);
    }
    if (runsWorker(config.role)) {
      imports.push(DeliveryWorkerModule);
    }
    if (runsApi(config.role)) {
      imports.push(
        SubscriptionsApiModule,
        DeliveryApiModule,
        EventsApiModule,
        StreamModule,
        StatusModule,
        ConsoleModule,
      );
    }
    return { module: AppModule, imports };
  }
}
