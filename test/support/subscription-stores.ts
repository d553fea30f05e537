import type { Redis } from 'ioredis';
import pino from 'pino';
import type { AppConfig } from '../../src/config/app-config';
import { SubscriptionHealthRepository } from '../../src/subscriptions/subscription-health.repository';
import { SubscriptionsFeed } from '../../src/subscriptions/subscriptions.feed';
import { SubscriptionsRepository } from '../../src/subscriptions/subscriptions.repository';

/** The subscriptions folder's Redis stores on one client, wired as the module wires them. */
export function subscriptionStores(
  redis: Redis,
  config: Pick<AppConfig, 'redis'>,
): {
  feed: SubscriptionsFeed;
  documents: SubscriptionsRepository;
  health: SubscriptionHealthRepository;
} {
  const appConfig = config as AppConfig;
  const feed = new SubscriptionsFeed(redis, appConfig, pino({ level: 'silent' }));
  const documents = new SubscriptionsRepository(redis, appConfig, feed);
  const health = new SubscriptionHealthRepository(redis, appConfig, documents, feed);
  return { feed, documents, health };
}
