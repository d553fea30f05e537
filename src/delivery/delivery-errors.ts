import { UnrecoverableError } from 'bullmq';

/**
 * The attempt failed and another one is due. Thrown so BullMQ counts the attempt and applies the
 * webhook backoff; `delayMs` is the wait already decided (schedule, jitter and any Retry-After).
 */
export class RetryableDeliveryError extends Error {
  readonly code = 'DELIVERY_RETRY';
  constructor(
    message: string,
    readonly delayMs?: number,
  ) {
    super(message);
    this.name = 'RetryableDeliveryError';
  }
}

/** No further attempt makes sense (410 Gone, schedule spent): BullMQ fails the job at once. */
export class PermanentDeliveryError extends UnrecoverableError {
  readonly code = 'DELIVERY_PERMANENT';
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}
