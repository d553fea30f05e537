/** Keys a subscription may filter on; each names a field of the event's `data`. */
export const FILTER_KEYS = ['direction', 'from', 'to', 'tn'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** Every given key must match: equality, or membership when a list is given. */
export type SubscriptionFilter = Partial<Record<FilterKey, string | string[]>>;

export interface SubscriptionSecret {
  secret: string;
  createdAt: string;
  /** Absent on the current secret; previous secrets keep signing until then. */
  expiresAt?: string;
}

export type SubscriptionSource = 'api' | 'file';

/** `per-key`: deliveries sharing an ordering key (a call, a message, an order) go one at a time. */
export type SubscriptionOrdering = 'none' | 'per-key';
export const ORDERINGS: readonly SubscriptionOrdering[] = ['none', 'per-key'];

export interface Subscription {
  /** `sub_` + 24 URL-safe random characters, or the id declared in SUBSCRIPTIONS_FILE. */
  id: string;
  url: string;
  eventTypes: string[];
  description?: string;
  /** `[current, ...previous still inside the rotation overlap]`. */
  secrets: SubscriptionSecret[];
  headers: Record<string, string>;
  filter?: SubscriptionFilter;
  /** Absent means `none`. */
  ordering?: SubscriptionOrdering;
  /** Requests started per second at most, across every worker. */
  rateLimitPerSecond?: number;
  /** Requests in flight at most, across every worker. */
  maxInFlight?: number;
  enabled: boolean;
  disabledReason?: string;
  disabledAt?: string;
  source: SubscriptionSource;
  createdAt: string;
  updatedAt: string;
  /** Start of the current run of failed deliveries; cleared by a success. */
  failingSince?: string;
  lastSuccessAt?: string;
  /** Set while a 429/503 with Retry-After holds every delivery back (ISO). */
  pausedUntil?: string;
}

/** Why a subscription was turned off, kept so a later change knows who may turn it back on. */
export const DisabledReason = {
  Admin: 'disabled by an administrator',
  File: 'declared disabled in SUBSCRIPTIONS_FILE',
} as const;
