import { Module } from '@nestjs/common';
import { DeliveryWorkers } from './delivery-workers.service';
import { DeliveryModule } from './delivery.module';

/** The worker role: fan-out and webhook delivery consumers. */
@Module({
  imports: [DeliveryModule],
  providers: [DeliveryWorkers],
  exports: [DeliveryWorkers],
})
export class DeliveryWorkerModule {}
