/**
 * The admin API's JSON as the console reads it: aliases of the wire types generated from the
 * OpenAPI document (type-only, erased from the browser bundle) and the value lists its forms
 * offer. The subscription form sends a SubscriptionInput (POST) for a new subscription and a
 * SubscriptionPatch (PATCH, where `null` clears a value) for an edit.
 */
import type {
  DeliveryStatusName,
  SubscriptionOrdering,
} from '../../api-contract/api-contract.types';

export type {
  ConnectionReport,
  CreatedSubscription,
  Delivery,
  DeliveryAttempt,
  DeliveryPage,
  OutcomeCounts,
  QuarantinedFrame,
  QuarantinePage,
  ReplayResult,
  RotatedSecret,
  Status,
  Subscription,
  SubscriptionInput,
  SubscriptionPage,
  SubscriptionPatch,
  TestSent,
  WebhookEvent as StreamEvent,
} from '../../api-contract/api-contract.types';

export type DeliveryStatus = DeliveryStatusName;
export type Ordering = SubscriptionOrdering;

export { DELIVERY_STATUSES, ORDERINGS } from '../../api-contract/api-contract.values';
