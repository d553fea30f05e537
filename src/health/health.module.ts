import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { type AppConfig } from '../config/app-config';
import { runsIngest, runsWorker } from '../config/app-role';
import { DeliveryWorkerModule } from '../delivery/delivery-worker.module';
import { EventsModule } from '../events/events.module';
import { IngestModule } from '../ingest/ingest.module';
import { QueueModule } from '../queue/queue.module';
import { HealthController } from './health.controller';
import { ReadinessIndicators } from './health.indicators';
import { Lifecycle } from './lifecycle.service';
import { RedisErrorReporter } from './redis-error.reporter';

@Global()
@Module({ providers: [Lifecycle], exports: [Lifecycle] })
export class LifecycleModule {}

/** /health/live and /health/ready; readiness checks only what this role runs. */
@Module({})
export class HealthModule {
  static forRoot(config: AppConfig): DynamicModule {
    const imports: DynamicModule['imports'] & unknown[] = [
      TerminusModule.forRoot({ logger: false }),
      QueueModule,
      EventsModule,
    ];
    if (runsIngest(config.role)) {
      imports.push(IngestModule);
    }
    if (runsWorker(config.role)) {
      imports.push(DeliveryWorkerModule);
    }
    return {
      module: HealthModule,
      imports,
      controllers: [HealthController],
      providers: [ReadinessIndicators, RedisErrorReporter],
    };
  }
}
