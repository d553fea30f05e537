import { Module } from '@nestjs/common';
import { AdminAuthModule } from '../api/admin-auth.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { EventsModule } from '../events/events.module';
import { QueueModule } from '../queue/queue.module';
import { RecoveryStatusModule } from '../recovery/recovery.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

/** GET /v1/status, served by the api role. */
@Module({
  imports: [
    AdminAuthModule,
    DeliveryModule,
    EventsModule,
    QueueModule,
    SubscriptionsModule,
    RecoveryStatusModule,
  ],
  controllers: [StatusController],
  providers: [StatusService],
})
export class StatusModule {}
