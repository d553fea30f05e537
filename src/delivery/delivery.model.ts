export enum DeliveryStatus {
  /** Created by the fan-out, not attempted yet. */
  Pending = 'pending',
  Succeeded = 'succeeded',
  /** The last attempt failed; another is scheduled. */
  Failing = 'failing',
  /** Every scheduled attempt failed (or the endpoint answered 410): kept, listed, replayable. */
  Dead = 'dead',
  /**
   * Not sent: the subscription was disabled or deleted, or the event is gone from the log (evicted
   * over EVENT_RETENTION_MAX_BYTES while the delivery waited); `lastError` says which.
   */
  Skipped = 'skipped',
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  durationMs: number;
  statusCode?: number;
  error?: string;
  /**
   * Response body, truncated to DELIVERY_MAX_RESPONSE_BYTES for the latest attempt and to an
   * excerpt (EARLIER_ATTEMPT_BODY_CHARS) for earlier ones.
   */
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
