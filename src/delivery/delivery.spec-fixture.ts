import type { Subscription } from '../subscriptions/subscription.model';

/**
 * A stored subscription for the delivery specs: enabled, every event type, one current secret,
 * a URL on the discard port. Spec-only: not built, not mutated.
 */
export function subscriptionFixture(over: Partial<Subscription> = {}): Subscription {
  return {
    id: 'sub_1',
    url: 'http://127.0.0.1:9/hook',
    eventTypes: ['*'],
    secrets: [{ secret: 'whsec_c2VjcmV0', createdAt: '2026-01-01T00:00:00.000Z' }],
    headers: {},
    enabled: true,
    source: 'api',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}
