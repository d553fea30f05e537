/**
 * The admin API's JSON as the console reads it: the wire contract, declared here because the
 * browser bundle cannot import the service's DTOs (they carry Nest decorators).
 */

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failing', 'dead', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const ORDERINGS = ['none', 'per-key'] as const;
export type Ordering = (typeof ORDERINGS)[number];

export interface ConnectionReport {
  instance: string;
  state: string;
  authenticated: boolean;
  connectedSince?: string;
  lastFrameAt?: string;
  reconnects: number;
  paused: boolean;
  reportedAt: string;
}

export interface OutcomeCounts {
  success: number;
  retry: number;
  dead: number;
  disabled: number;
  skipped: number;
}

export interface Status {
  version: string;
  time: string;
  opentact: { state: 'open' | 'down' | 'unknown'; connections: ConnectionReport[] };
  events: { backlog: number | null; inFanOut: number; retained: number };
  deliveries: {
    queue: Record<string, number>;
    lastHour: OutcomeCounts;
    perMinute: { minute: string; counts: OutcomeCounts }[];
  };
  subscriptions: { total: number; enabled: number; disabled: number; failing: number };
  quarantine: { total: number };
}

export interface Subscription {
  id: string;
  url: string;
  eventTypes: string[];
  description?: string;
  headers: Record<string, string>;
  ordering: Ordering;
  rateLimitPerSecond?: number;
  maxInFlight?: number;
  pausedUntil?: string;
  enabled: boolean;
  disabledReason?: string;
  disabledAt?: string;
  source: string;
  createdAt: string;
  updatedAt: string;
  failingSince?: string;
  lastSuccessAt?: string;
  secretPreview: string;
}

export interface SubscriptionPage {
  data: Subscription[];
  nextCursor: string | null;
}

/** POST /v1/subscriptions and PATCH /v1/subscriptions/:id (`null` clears on PATCH). */
export interface SubscriptionInput {
  url: string;
  eventTypes: string[];
  description?: string | null;
  ordering: Ordering;
  rateLimitPerSecond?: number | null;
  maxInFlight?: number | null;
  enabled: boolean;
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
  status: DeliveryStatus;
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

/** One live-stream message: exactly a webhook body. */
export interface StreamEvent {
  id: string;
  type: string;
  occurredAt: string;
  receivedAt: string;
  data: Record<string, unknown>;
}
