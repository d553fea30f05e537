import { Global, Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { QueueModule } from '../queue/queue.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { OperationalStatsRepository } from './operational-stats.repository';

@Global()
@Module({
  providers: [MetricsService, OperationalStatsRepository],
  exports: [MetricsService, OperationalStatsRepository],
})
export class MetricsModule {}

/** GET /metrics, open like the health routes (scraped from inside the cluster). */
@Module({ imports: [QueueModule, EventsModule], controllers: [MetricsController] })
export class MetricsApiModule {}
