import { VERSION_CHECK_INTERVAL_MS } from '../../src/subscriptions/subscription-registry.service';
import type { StatusDto } from '../../src/status/dto/status.dto';
import { E2E_ADMIN_KEY, until } from './e2e-env';
import type { ServiceProcess } from './process-harness';

/**
 * How long a process may take to see a subscription change: a change message, or at worst its
 * once-a-second version check, with room for a loaded 2-core machine.
 */
export const SUBSCRIPTIONS_FRESH_MS = VERSION_CHECK_INTERVAL_MS + 9_000;

/**
 * Waits until a worker (or all-in-one) process has loaded a subscriptions snapshot holding this
 * many enabled subscriptions: events it fans out from then on are matched against them.
 */
export async function waitForSubscriptions(
  service: ServiceProcess,
  enabled: number,
  timeoutMs = SUBSCRIPTIONS_FRESH_MS,
): Promise<void> {
  await service.waitForLog(
    (line) => line.msg === 'subscriptions loaded' && line.enabled === enabled,
    timeoutMs,
    `${enabled} enabled subscriptions loaded`,
  );
}

/**
 * Waits until the service has nothing left to do (asked of any api process through
 * GET /v1/status): every event fanned out and acknowledged, and no delivery job waiting, running
 * or delayed. After this no late webhook, duplicate or not, can still arrive.
 */
export async function waitForSettled(
  api: ServiceProcess,
  timeoutMs: number,
  adminKey = E2E_ADMIN_KEY,
): Promise<StatusDto> {
  let last: StatusDto | undefined;
  await until(
    async () => {
      const answer = await api.get<StatusDto>('/v1/status', {
        authorization: `Bearer ${adminKey}`,
      });
      if (answer.status !== 200) {
        return false;
      }
      last = answer.body;
      const { events, deliveries } = last;
      const { waiting, active, delayed, prioritized } = deliveries.queue;
      return (
        events.backlog === 0 &&
        events.inFanOut === 0 &&
        waiting + active + delayed + (prioritized ?? 0) === 0
      );
    },
    timeoutMs,
    'the service to settle (no backlog, nothing in fan-out, no delivery job)',
  );
  return last!;
}
