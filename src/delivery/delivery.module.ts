import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventsModule } from '../events/events.module';
import { QueueModule } from '../queue/queue.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { USER_AGENT } from '../version';
import { WebhookSigner } from '../webhook-security/webhook-signer';
import { DeliveryAdminService } from './delivery-admin.service';
import { DeliveryAttempt } from './delivery-attempt.service';
import { DeliveryLanes } from './delivery-lanes';
import { DeliveryTurns } from './delivery-turns';
import { OperationalEvents } from './operational-events';
import { SubscriptionLimiter } from './subscription-limiter';
import { DeliveryRecordRepository } from './delivery-record.repository';
import { DeliveryProcessor } from './delivery.processor';
import { EndpointHealth } from './endpoint-health';
import { EventLogRetention } from './event-log-retention';
import { FanOut } from './fan-out.service';
import { WebhookHttpClient } from './webhook-http.client';
import { WebhookSender } from './webhook-sender';

/** Delivery pieces shared by the worker role (which runs them) and the api role (retry, replay, test). */
@Module({
  imports: [QueueModule, EventsModule, SubscriptionsModule],
  providers: [
    DeliveryRecordRepository,
    DeliveryAttempt,
    DeliveryLanes,
    DeliveryTurns,
    SubscriptionLimiter,
    OperationalEvents,
    DeliveryProcessor,
    EndpointHealth,
    EventLogRetention,
    FanOut,
    WebhookSender,
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
  exports: [
    DeliveryRecordRepository,
    FanOut,
    DeliveryProcessor,
    DeliveryAdminService,
    EventLogRetention,
  ],
})
export class DeliveryModule {}
