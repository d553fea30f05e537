import { Module } from '@nestjs/common';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { DeliveriesController, SubscriptionDeliveriesController } from './deliveries.controller';
import { DeliveryModule } from './delivery.module';

/** The api role's routes for deliveries, test events and replay. */
@Module({
  imports: [DeliveryModule],
  controllers: [DeliveriesController, SubscriptionDeliveriesController],
  providers: [AdminApiKeyGuard],
})
export class DeliveryApiModule {}
