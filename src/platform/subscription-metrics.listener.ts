import type { MetricsService } from '../metrics/metrics.service';
import type { ConnectionListener } from './opentact-connection.types';

/** Counts failed attempts to ensure the event subscriptions. */
export function subscriptionMetricsListener(
  metrics: Pick<MetricsService, 'subscriptionErrors'>,
): ConnectionListener {
  return {
    onSubscriptionError: () => metrics.subscriptionErrors.inc(),
  };
}
