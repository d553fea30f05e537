import { Module } from '@nestjs/common';
import { AdminAuthModule } from '../api/admin-auth.module';
import { ClockModule } from '../common/clock';
import { SubscriptionHealthRepository } from './subscription-health.repository';
import { SubscriptionRegistry } from './subscription-registry.service';
import { SubscriptionRules } from './subscription-rules';
import { SubscriptionsFileLoader } from './subscriptions-file.loader';
import { SubscriptionsFileSync } from './subscriptions-file.sync';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsFeed } from './subscriptions.feed';
import { SubscriptionsRepository } from './subscriptions.repository';
import { SubscriptionsService } from './subscriptions.service';

/**
 * Customer webhook subscriptions: the documents, their delivery health and pauses, the change
 * feed, rules, the SUBSCRIPTIONS_FILE upsert (run by every role that delivers or administers,
 * idempotently), and the in-memory registry the fan-out matches events against. Needs the global ConfigModule, LoggingModule and RedisModule.
 */
@Module({
  imports: [ClockModule],
  providers: [
    SubscriptionsFeed,
    SubscriptionsRepository,
    SubscriptionHealthRepository,
    SubscriptionRules,
    SubscriptionsService,
    SubscriptionRegistry,
    SubscriptionsFileLoader,
    SubscriptionsFileSync,
  ],
  exports: [
    ClockModule,
    SubscriptionsService,
    SubscriptionsRepository,
    SubscriptionHealthRepository,
    SubscriptionRegistry,
  ],
})
export class SubscriptionsModule {}

/** The admin routes under /v1/subscriptions: only the api role mounts them. */
@Module({
  imports: [AdminAuthModule, SubscriptionsModule],
  controllers: [SubscriptionsController],
})
export class SubscriptionsApiModule {}
