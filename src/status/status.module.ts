import { Module } from '@nestjs/common';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { EventsModule } from '../events/events.module';
import { QueueModule } from '../queue/queue.module';
import { RecoveryStatusModule } from '../recovery/recovery.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

/** GET /v1/status, served by the api role. */
@Module({
  imports: [EventsModule, QueueModule, SubscriptionsModule, RecoveryStatusModule],
  controllers: [StatusController],
  providers: [StatusService, AdminApiKeyGuard],
})
export class StatusModule {}
