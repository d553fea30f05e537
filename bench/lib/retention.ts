import type { StatusDto } from '../../src/status/dto/status.dto';
import { ADMIN_API_KEY, type ServiceProcess } from './service';

/** What the service says of its event log's retention and skipped deliveries (GET /v1/status). */
export interface RetentionReading {
  retained: number;
  logBytes: number;
  budgetBytes: number;
  heldDeliveries: number;
  overBudget: boolean;
  skipped: number;
}

export async function readRetention(api: ServiceProcess): Promise<RetentionReading> {
  const reply = await api.get<StatusDto>('/v1/status', {
    authorization: `Bearer ${ADMIN_API_KEY}`,
  });
  if (reply.status !== 200) {
    throw new Error(`GET /v1/status answered ${reply.status}`);
  }
  const { events, deliveries } = reply.body;
  return {
    retained: events.retained,
    logBytes: events.retention.bytes,
    budgetBytes: events.retention.budgetBytes,
    heldDeliveries: events.retention.heldDeliveries,
    overBudget: events.retention.overBudget !== null,
    skipped: deliveries.skipped,
  };
}

/**
 * A retry schedule that keeps trying every `intervalSeconds` for at least `coverSeconds` (plus
 * four more tries), so an endpoint down that long still has retries scheduled when it is back.
 */
export function retryScheduleCovering(coverSeconds: number, intervalSeconds: number): string {
  const tries = Math.ceil(coverSeconds / intervalSeconds) + 4;
  return Array<string>(tries)
    .fill(`${Math.max(1, Math.round(intervalSeconds))}s`)
    .join(',');
}
