/**
 * The admin API's JSON as this tool reads it. Declared here rather than imported from the
 * service's DTOs: an installed CLI talks to whatever version of the service runs, so it reads
 * the wire contract, and a test under test/ keeps these shapes assignable from the service's.
 */

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failing', 'dead', 'skipped'] as const;
export type DeliveryStatusName = (typeof DELIVERY_STATUSES)[number];

export interface PreviousSecret {
  secretPreview: string;
  createdAt: string;
  expiresAt: string;
}

export type FilterValue = string | string[];

/** Matched against `event.data`. */
export interface SubscriptionFilter {
  direction?: FilterValue;
  from?: FilterValue;
  to?: FilterValue;
  tn?: FilterValue;
}

export interface Subscription {
  id: string;
  url: string;
  eventTypes: string[];
  description?: string;
  headers: Record<string, string>;
  filter?: SubscriptionFilter;
  enabled: boolean;
  disabledReason?: string;
  disabledAt?: string;
  source: string;
  createdAt: string;
  updatedAt: string;
  failingSince?: string;
  lastSuccessAt?: string;
  secretPreview: string;
  previousSecrets: PreviousSecret[];
  ordering?: SubscriptionOrdering;
  rateLimitPerSecond?: number;
  maxInFlight?: number;
  pausedUntil?: string;
}

export interface CreatedSubscription extends Subscription {
  secret: string;
}

export interface SubscriptionPage {
  data: Subscription[];
  nextCursor: string | null;
}

/** POST /v1/subscriptions; PATCH takes the same fields, each optional, `null` clearing. */
export interface SubscriptionInput {
  url?: string;
  eventTypes?: string[];
  description?: string | null;
  headers?: Record<string, string>;
  filter?: Record<string, FilterValue> | null;
  enabled?: boolean;
  ordering?: SubscriptionOrdering;
  rateLimitPerSecond?: number | null;
  maxInFlight?: number | null;
}

export type SubscriptionOrdering = 'none' | 'per-key';

export interface RotatedSecret {
  secret: string;
  previousSecretExpiresAt: string;
}

export interface TestSent {
  eventId: string;
  deliveryId: string;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  responseBody?: string;
  responseTruncated?: boolean;
  nextAttemptAt?: string;
}

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  status: DeliveryStatusName;
  createdAt: string;
  updatedAt: string;
  attemptCount: number;
  lastStatusCode?: number;
  lastError?: string;
  nextAttemptAt?: string;
  attempts?: DeliveryAttempt[];
}

export interface DeliveryPage {
  data: Delivery[];
  nextCursor?: string;
}

/** GET /v1/deliveries: the filters the API applies itself. */
export interface DeliveryListQuery {
  subscriptionId?: string;
  status?: DeliveryStatusName;
  eventType?: string;
  limit: number;
  cursor?: string;
}

export interface ReplayInput {
  since: string;
  until?: string;
  scope?: 'failed' | 'all';
}

export interface ReplayResult {
  replayed: number;
}

export interface QuarantinedFrame {
  id: string;
  at: string;
  reason: string;
  detail: string;
  binary: boolean;
  size: number;
  truncated: boolean;
  rawBase64: string;
}

export interface QuarantinePage {
  total: number;
  countsByReason: Record<string, number>;
  items: QuarantinedFrame[];
}

export interface BridgeEvent {
  id: string;
  type: string;
  occurredAt: string;
  receivedAt: string;
  data: object;
  raw: Record<string, unknown>;
}

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
