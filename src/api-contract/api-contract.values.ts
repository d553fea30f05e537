import type { DeliveryStatusName, SubscriptionOrdering } from './api-contract.types';

// The value lists the clients offer (filters, form choices), written as records so that a value
// added to the API and missing here, or one the API no longer has, fails the type check.
const statuses = {
  pending: true,
  succeeded: true,
  failing: true,
  dead: true,
  skipped: true,
} satisfies Record<DeliveryStatusName, true>;
const orderings = { none: true, 'per-key': true } satisfies Record<SubscriptionOrdering, true>;

/** Every delivery status, in the order the clients list them. */
export const DELIVERY_STATUSES = Object.keys(statuses) as DeliveryStatusName[];
/** Every subscription ordering, the default first. */
export const ORDERINGS = Object.keys(orderings) as SubscriptionOrdering[];
