import { ADMIN_API_KEY } from './service';
import { waitUntil } from './util';

interface StatusBody {
  events: { backlog: number | null; inFanOut: number };
  deliveries: { queue: Record<string, number> };
}

/**
 * True once the service has nothing left to do, as any api process reports it (GET /v1/status):
 * every event fanned out and acknowledged, no delivery job waiting, running or delayed. After
 * that no webhook, late duplicate or not, can still arrive. False if it did not within the time.
 */
export async function waitForServiceIdle(apiUrl: string, timeoutMs: number): Promise<boolean> {
  return waitUntil(
    async () => {
      try {
        const res = await fetch(`${apiUrl}/v1/status`, {
          headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
          signal: AbortSignal.timeout(5_000),
        });
        if (!res.ok) {
          return false;
        }
        const { events, deliveries } = (await res.json()) as StatusBody;
        const q = deliveries.queue;
        const jobs = (q.waiting ?? 0) + (q.active ?? 0) + (q.delayed ?? 0) + (q.prioritized ?? 0);
        return events.backlog === 0 && events.inFanOut === 0 && jobs === 0;
      } catch {
        return false;
      }
    },
    timeoutMs,
    250,
  );
}

/**
 * True once the service's log file says a subscriptions snapshot with `enabled` subscriptions was
 * loaded (needs LOG_LEVEL info): from then on its fan-out matches events against them.
 */
export async function waitForSubscriptionsLoaded(
  readLog: () => string,
  enabled: number,
  timeoutMs: number,
): Promise<boolean> {
  const marker = `"enabled":${enabled},`;
  return waitUntil(
    () =>
      readLog()
        .split('\n')
        .some((line) => line.includes('"msg":"subscriptions loaded"') && line.includes(marker)),
    timeoutMs,
    50,
  );
}
