import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { DeliveryWorkers } from './delivery-workers.service';
import { DeliveryModule } from './delivery.module';

/** The worker role: the fan-out (event log consumer) and the deliveries queue consumer. */
@Module({
  imports: [DeliveryModule, EventsModule, SubscriptionsModule],
  providers: [DeliveryWorkers],
  exports: [DeliveryWorkers],
})
export class DeliveryWorkerModule {}
