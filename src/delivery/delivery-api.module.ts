import { Module } from '@nestjs/common';
import { AdminAuthModule } from '../api/admin-auth.module';
import { DeliveriesController, SubscriptionDeliveriesController } from './deliveries.controller';
import { DeliveryModule } from './delivery.module';

/** The api role's routes for deliveries, test events and replay. */
@Module({
  imports: [AdminAuthModule, DeliveryModule],
  controllers: [DeliveriesController, SubscriptionDeliveriesController],
})
export class DeliveryApiModule {}
