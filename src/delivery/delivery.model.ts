export enum DeliveryStatus {
  /** Created by the fan-out, not attempted yet. */
  Pending = 'pending',
  Succeeded = 'succeeded',
  /** The last attempt failed; another is scheduled. */
  Failing = 'failing',
  /** Every scheduled attempt failed (or the endpoint answered 410): kept, listed, replayable. */
  Dead = 'dead',
  /** Not sent: the subscription was disabled or deleted, or the event left retention. */
  Skipped = 'skipped',
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  /** Response body, truncated to DELIVERY_MAX_RESPONSE_BYTES. */
  responseBody?: string;
  responseTruncated?: boolean;
  /** When the next attempt is due, if one is scheduled. */
  nextAttemptAt?: string;
}

export interface DeliveryRecord {
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
