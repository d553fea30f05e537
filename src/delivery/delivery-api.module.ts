import { Module } from '@nestjs/common';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { EventsModule } from '../events/events.module';
import {
  DeliveriesController,
  EventsController,
  SubscriptionDeliveriesController,
} from './deliveries.controller';
import { DeliveryModule } from './delivery.module';

/** The api role's routes for deliveries, events, quarantine, test events and replay. */
@Module({
  imports: [DeliveryModule, EventsModule],
  controllers: [DeliveriesController, SubscriptionDeliveriesController, EventsController],
  providers: [AdminApiKeyGuard],
})
export class DeliveryApiModule {}
