import { UnrecoverableError } from 'bullmq';
import { PermanentDeliveryError, RetryableDeliveryError } from './delivery-errors';

describe('delivery errors', () => {
  it('a retryable failure carries its message, the decided delay and its own name and code', () => {
    const error = new RetryableDeliveryError('status 500', 5_000);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('status 500');
    expect(error.delayMs).toBe(5_000);
    expect(error.name).toBe('RetryableDeliveryError');
    expect(error.code).toBe('DELIVERY_RETRY');
    expect(new RetryableDeliveryError('timeout').delayMs).toBeUndefined();
  });

  it('a permanent failure is one BullMQ does not retry, with its own name and code', () => {
    const error = new PermanentDeliveryError('endpoint answered 410 Gone');
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error.message).toBe('endpoint answered 410 Gone');
    expect(error.name).toBe('PermanentDeliveryError');
    expect(error.code).toBe('DELIVERY_PERMANENT');
  });
});
