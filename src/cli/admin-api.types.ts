/**
 * The admin API's JSON as this tool reads it: the wire contract generated from the OpenAPI
 * document (src/api-contract), not the service's DTOs, since an installed CLI talks to whatever
 * version of the service runs. What the document does not describe (the terminus readiness
 * answer, the filter's value shape) is declared here.
 */
import type {
  DeliveryListQuery as DeliveryListFilters,
  SubscriptionFilter,
} from '../api-contract/api-contract.types';

export type {
  CreatedSubscription,
  Delivery,
  DeliveryAttempt,
  DeliveryPage,
  DeliveryStatusName,
  PreviousSecret,
  QuarantinedFrame,
  QuarantinePage,
  ReplayInput,
  ReplayResult,
  RotatedSecret,
  Status as ServiceStatus,
  Subscription,
  SubscriptionFilter,
  SubscriptionOrdering,
  SubscriptionPage,
  TestSent,
  WebhookEvent as BridgeEvent,
} from '../api-contract/api-contract.types';
export type { SubscriptionPatch as SubscriptionInput } from '../api-contract/api-contract.types';
export { DELIVERY_STATUSES } from '../api-contract/api-contract.values';

/** GET /v1/deliveries as this tool asks it: always with a page size. */
export type DeliveryListQuery = DeliveryListFilters & { limit: number };

/** One value of a filter field: a string, or any of several. */
export type FilterValue = NonNullable<SubscriptionFilter[keyof SubscriptionFilter]>;

/** One check of GET /health/ready (terminus): `status` plus whatever the indicator adds. */
export interface ReadinessCheck {
  status: string;
  message?: string;
  [detail: string]: unknown;
}

export interface Readiness {
  status: string;
  details?: Record<string, ReadinessCheck>;
  error?: Record<string, ReadinessCheck>;
  info?: Record<string, ReadinessCheck>;
}
