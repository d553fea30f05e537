import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { QueueModule } from '../queue/queue.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { USER_AGENT } from '../version';
import { DeliveryAdminService } from './delivery-admin.service';
import { DeliveryRecordRepository } from './delivery-record.repository';
import { FanOut } from './fan-out.service';
import { WebhookDelivery } from './webhook-delivery.service';
import { WebhookHttpClient } from './webhook-http.client';
import { WebhookSigner } from './webhook-signer';

/** Delivery pieces shared by the worker role (which runs them) and the api role (retry, replay, test). */
@Module({
  imports: [QueueModule, SubscriptionsModule],
  providers: [
    DeliveryRecordRepository,
    FanOut,
    WebhookDelivery,
    WebhookSigner,
    DeliveryAdminService,
    {
      provide: WebhookHttpClient,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new WebhookHttpClient({
          timeoutMs: config.delivery.timeoutMs,
          connectionsPerOrigin: config.delivery.connectionsPerOrigin,
          maxResponseBytes: config.delivery.maxResponseBytes,
          allowCidrs: config.delivery.allowCidrs,
          userAgent: USER_AGENT,
        }),
    },
  ],
  exports: [DeliveryRecordRepository, FanOut, WebhookDelivery, DeliveryAdminService],
})
export class DeliveryModule {}
